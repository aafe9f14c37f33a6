// Package message is parley's channel-neutral model: the messages an app
// sends, the records parley keeps, the events it emits, and the errors that
// name the field and the limit. It knows nothing of AWS, HTTP handlers or the
// platforms' wire formats.
package message

// Channel is a messaging platform parley speaks to.
type Channel string

// The channels parley supports.
const (
	WhatsApp Channel = "whatsapp"
	Apple    Channel = "apple"
)

// Valid reports whether c is a channel parley knows.
func (c Channel) Valid() bool { return c == WhatsApp || c == Apple }
