// Package whatsapp speaks the WhatsApp Business Cloud API: it checks
// parley's messages against WhatsApp's limits, renders them as Graph API
// requests, sends them with a Client that maps Meta's error codes to
// parley's, and verifies and parses the webhooks Meta posts back.
//
// It knows nothing of AWS or of parley's store.
package whatsapp
