package whatsapp

import "github.com/parleyhq/parley/shared/message"

// TextBodyLimit is the most characters (code points, see message.Len) a
// text message's body may hold.
const TextBodyLimit = 4096

// Supports reports whether this package can render messages of type typ.
func Supports(typ string) bool {
	return typ == message.TypeText
}

// Validate returns what is wrong with m by WhatsApp's limits, each problem
// naming the field of the send API. Types this package does not support
// yield no problems: callers refuse them with Supports.
func Validate(m message.Message) message.Problems {
	var ps message.Problems
	switch m.Type {
	case message.TypeText:
		ps.Required("message.text", m.Text)
		ps.MaxLen("message.text", m.Text, TextBodyLimit)
	}
	return ps
}
