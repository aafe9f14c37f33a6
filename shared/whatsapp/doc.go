// Package whatsapp speaks the WhatsApp Business Cloud API: it checks
// parley's messages against WhatsApp's limits, fits the types WhatsApp
// lacks to the closest form it has (Adapt), renders them as Graph API
// requests, sends them with a Client that maps Meta's error codes to
// parley's, and verifies and parses the webhooks Meta posts back.
//
// It knows nothing of AWS or of parley's store. CHANNEL.md records the
// choices made where Meta's documentation is silent or contradicts itself.
package whatsapp
