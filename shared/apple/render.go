package apple

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/shared/message"
)

// outbound is the body of a message sent to Apple's MSP gateway.
type outbound struct {
	V             int    `json:"v"`
	ID            string `json:"id"`
	Type          string `json:"type"`
	SourceID      string `json:"sourceId"`
	DestinationID string `json:"destinationId"`
	Body          string `json:"body,omitempty"`
}

// Supports reports whether the apple channel can send messages of the public
// type typ.
func Supports(typ string) bool { return typ == message.TypeText }

// Validate returns what is wrong with m for Apple. Apple sets no maximum
// length on a text, so only its presence is checked.
func Validate(m message.Message) message.Problems {
	var ps message.Problems
	switch m.Type {
	case message.TypeText:
		ps.Required("message.text", m.Text)
	default:
		ps.Add("message.type", "%q cannot be sent on the apple channel", m.Type)
	}
	return ps
}

// Render returns the JSON body of o for POST /message. o.PlatformMessageID
// is the Apple message id, a UUID the sender chooses. Render does not
// validate the content (that is Validate's job); it refuses a type it cannot
// render with unsupported_on_channel.
func Render(o message.Outgoing) ([]byte, error) {
	if !Supports(o.Message.Type) {
		return nil, message.Errorf(message.CodeUnsupportedOnChannel, "message type %q cannot be sent on the apple channel", o.Message.Type)
	}
	if o.PlatformMessageID == "" {
		return nil, errors.New("apple: render: the message has no Apple message id")
	}
	b, err := json.Marshal(outbound{
		V:             1,
		ID:            o.PlatformMessageID,
		Type:          typeText,
		SourceID:      o.BusinessID,
		DestinationID: o.To,
		Body:          o.Message.Text,
	})
	if err != nil {
		return nil, fmt.Errorf("apple: render: %w", err)
	}
	return b, nil
}
