package whatsapp

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// Limits of recipients.
const (
	// maxPhoneDigits is E.164's longest number.
	maxPhoneDigits = 15
	// maxGroupID caps a group id; Meta's are about 60 characters.
	maxGroupID = 256
)

// groupTypes are the message types a group takes: Meta's Groups API sends
// text, media and text- or media-based templates, and no interactive,
// commerce, authentication or reaction messages (CHANNEL.md).
var groupTypes = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		message.TypeText: true, message.TypeRichLink: true, message.TypeTemplate: true,
		"image": true, "audio": true, "video": true, "document": true, "sticker": true,
	}
})

// groupTemplateButtons are the template button sub_types a group message
// cannot carry, with why: Meta's Groups API lists commerce, calling and
// interactive messages as unsupported in groups (CHANNEL.md).
var groupTemplateButtons = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"catalog":       "groups take no commerce messages",
		"mpm":           "groups take no commerce messages",
		"spm":           "groups take no commerce messages",
		"order_details": "groups take no commerce messages (an order to pay)",
		"voice_call":    "groups take no calling",
	}
})

// CheckRecipient checks to (see checkTo), and m for it: a group takes only
// the types Meta's Groups API sends.
func CheckRecipient(to string, m message.Message) message.Problems {
	if ps := checkTo(to); len(ps) > 0 {
		return ps
	}
	var ps message.Problems
	if message.RecipientKind(to) == message.RecipientGroup {
		if !groupTypes()[m.Type] {
			ps.Add("message.type", "%q messages cannot be sent to a WhatsApp group (%s is neither a phone number nor a business-scoped user id); groups take text, media and templates",
				m.Type, to)
			return ps
		}
		if m.Type == message.TypeTemplate {
			for _, b := range templateButtons("message.components", m.Components) {
				if why, no := groupTemplateButtons()[b.subType]; no {
					ps.Add(b.path+".sub_type", "%q buttons cannot be sent to a WhatsApp group: %s", b.subType, why)
				}
			}
		}
	}
	return ps
}

// CheckRecipient lets a Client answer send.RecipientChecker.
func (c *Client) CheckRecipient(to string, m message.Message) message.Problems {
	return CheckRecipient(to, m)
}

// templateButton is a button component of a template, at path.
type templateButton struct{ path, subType string }

// templateButtons lists the buttons of components, a template's or a
// carousel card's, and those of its carousel's cards.
func templateButtons(path string, components json.RawMessage) []templateButton {
	var comps []struct {
		Type    string `json:"type"`
		SubType string `json:"sub_type"`
		Cards   []struct {
			Components json.RawMessage `json:"components"`
		} `json:"cards"`
	}
	if json.Unmarshal(components, &comps) != nil {
		return nil
	}
	var out []templateButton
	for i, c := range comps {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch strings.ToLower(c.Type) {
		case compButton:
			out = append(out, templateButton{p, strings.ToLower(c.SubType)})
		case compCarousel:
			for j, card := range c.Cards {
				out = append(out, templateButtons(fmt.Sprintf("%s.cards[%d].components", p, j), card.Components)...)
			}
		}
	}
	return out
}

func trimPlus(s string) string {
	if len(s) > 0 && s[0] == '+' {
		return s[1:]
	}
	return s
}
