// Package apple speaks Apple Messages for Business as a Messaging Service
// Provider (MSP): it signs and checks the JWTs of the MSP REST API, reads and
// parses the webhooks Apple sends when a customer writes, renders outbound
// messages and sends them to Apple's MSP gateway. It knows nothing of AWS or
// of parley's store.
package apple
