package whatsapp

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// request is the body of POST /{phone-number-id}/messages.
type request struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to,omitempty"`
	// Recipient is a business-scoped user id, sent instead of To.
	Recipient   string       `json:"recipient,omitempty"`
	Type        string       `json:"type"`
	Text        *textObject  `json:"text,omitempty"`
	Interactive *interactive `json:"interactive,omitempty"`
	Reaction    *reaction    `json:"reaction,omitempty"`
	Template    *template    `json:"template,omitempty"`
	Image       *mediaOut    `json:"image,omitempty"`
	Video       *mediaOut    `json:"video,omitempty"`
	Audio       *mediaOut    `json:"audio,omitempty"`
	Document    *mediaOut    `json:"document,omitempty"`
	Sticker     *mediaOut    `json:"sticker,omitempty"`
	Context     *contextInfo `json:"context,omitempty"`
}

type textObject struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

type contextInfo struct {
	MessageID string `json:"message_id"`
}

// interactive is the "interactive" object shared by lists, reply buttons,
// CTA URL buttons, location requests and product messages.
type interactive struct {
	Type   string    `json:"type"`
	Header *header   `json:"header,omitempty"`
	Body   *textPart `json:"body,omitempty"`
	Footer *textPart `json:"footer,omitempty"`
	Action action    `json:"action"`
}

type textPart struct {
	Text string `json:"text"`
}

type header struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Image    *media `json:"image,omitempty"`
	Video    *media `json:"video,omitempty"`
	Document *media `json:"document,omitempty"`
}

// media is a header's image, video or document: an uploaded media id or a
// link.
type media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type action struct {
	Button            string         `json:"button,omitempty"`
	Buttons           []replyButton  `json:"buttons,omitempty"`
	Name              string         `json:"name,omitempty"`
	Parameters        *ctaParameters `json:"parameters,omitempty"`
	CatalogID         string         `json:"catalog_id,omitempty"`
	ProductRetailerID string         `json:"product_retailer_id,omitempty"`
	Sections          []section      `json:"sections,omitempty"`
}

type replyButton struct {
	Type  string `json:"type"`
	Reply row    `json:"reply"`
}

type row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type section struct {
	Title        string        `json:"title,omitempty"`
	Rows         []row         `json:"rows,omitempty"`
	ProductItems []productItem `json:"product_items,omitempty"`
}

type productItem struct {
	ProductRetailerID string `json:"product_retailer_id"`
}

type ctaParameters struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

type reaction struct {
	MessageID string `json:"message_id"`
	// Emoji is always sent: "" removes the reaction.
	Emoji string `json:"emoji"`
}

type template struct {
	Name       string          `json:"name"`
	Language   language        `json:"language"`
	Components json.RawMessage `json:"components,omitempty"`
}

type language struct {
	Code string `json:"code"`
}

// interactiveTypes maps parley's types to WhatsApp's interactive.type.
var interactiveTypes = sync.OnceValue(func() map[string]string {
	return map[string]string{
		message.TypeList:            "list",
		message.TypeButtons:         "button",
		message.TypeCTAURL:          "cta_url",
		message.TypeLocationRequest: "location_request_message",
		message.TypeProduct:         "product",
		message.TypeProductList:     "product_list",
	}
})

// Render returns the Graph API request body that sends o. It refuses a type
// this package does not support (unsupported_on_channel), a message
// Validate finds fault with (invalid_message) and one without a recipient
// (invalid_request).
//
// o.To is the customer's wa_id, their business-scoped user id, or a group
// id (message.RecipientKind). A wa_id is sent in "to" with a leading "+",
// because without one Meta prepends the business number's country code (a
// "+" already there is kept); a business-scoped user id goes in
// "recipient", as Meta takes it; a group id in "to" with recipient_type
// "group". o.ReplyToPlatformID becomes context.message_id, except on a
// reaction, which WhatsApp does not take as a reply.
func Render(o message.Outgoing) ([]byte, error) {
	m := o.Message
	if !Supports(m.Type) {
		return nil, message.Errorf(message.CodeUnsupportedOnChannel,
			"whatsapp: message type %q is not supported on this channel", m.Type)
	}
	if o.To == "" {
		return nil, requestError("to")
	}
	if ps := Validate(m); len(ps) > 0 {
		return nil, message.Invalid(ps)
	}
	if ps := CheckRecipient(o.To, m); len(ps) > 0 {
		return nil, message.Invalid(ps)
	}
	req := request{MessagingProduct: "whatsapp", RecipientType: "individual"}
	switch message.RecipientKind(o.To) {
	case message.RecipientPhone:
		req.To = recipient(o.To)
	case message.RecipientBSUID:
		req.Recipient = o.To
	default:
		req.RecipientType = "group"
		req.To = o.To
	}
	switch m.Type {
	case message.TypeText:
		req.Type = "text"
		req.Text = &textObject{Body: m.Text, PreviewURL: m.PreviewURL}
	case message.TypeRichLink:
		req.Type = "text"
		req.Text = &textObject{Body: richLinkText(m), PreviewURL: true}
	case message.TypeReaction:
		req.Type = "reaction"
		req.Reaction = &reaction{MessageID: m.MessageID, Emoji: *m.Emoji}
	case message.TypeImage, message.TypeVideo, message.TypeAudio, message.TypeDocument, message.TypeSticker:
		if err := renderMedia(&req, m); err != nil {
			return nil, err
		}
	case message.TypeTemplate:
		req.Type = "template"
		req.Template = &template{Name: m.Name, Language: language{Code: m.Language}}
		if string(m.Components) != "null" {
			req.Template.Components = m.Components
		}
	default:
		req.Type = "interactive"
		req.Interactive = renderInteractive(m)
	}
	if o.ReplyToPlatformID != "" && m.Type != message.TypeReaction {
		req.Context = &contextInfo{MessageID: o.ReplyToPlatformID}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Meta reads "<", ">" and "&" as they are; escaping them only makes
	// the request harder to read in logs and tests.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// richLinkText is how a richLink reads on WhatsApp: its title, and the URL
// on the next line, which WhatsApp previews.
func richLinkText(m message.Message) string {
	return m.Title + "\n" + m.URL
}

func renderInteractive(m message.Message) *interactive {
	in := &interactive{Type: interactiveTypes()[m.Type], Header: renderHeader(m.Header)}
	if m.Body != "" {
		in.Body = &textPart{Text: m.Body}
	}
	if m.Footer != "" {
		in.Footer = &textPart{Text: m.Footer}
	}
	switch m.Type {
	case message.TypeList:
		in.Action.Button = m.Button
		for _, s := range m.Sections {
			rows := make([]row, len(s.Items))
			for i, it := range s.Items {
				rows[i] = row{ID: it.ID, Title: it.Title, Description: it.Description}
			}
			in.Action.Sections = append(in.Action.Sections, section{Title: s.Title, Rows: rows})
		}
	case message.TypeButtons:
		in.Action.Buttons = make([]replyButton, len(m.Buttons))
		for i, b := range m.Buttons {
			in.Action.Buttons[i] = replyButton{Type: "reply", Reply: row{ID: b.ID, Title: b.Title}}
		}
	case message.TypeCTAURL:
		in.Action.Name = "cta_url"
		in.Action.Parameters = &ctaParameters{DisplayText: m.Button, URL: m.URL}
	case message.TypeLocationRequest:
		in.Action.Name = "send_location"
	case message.TypeProduct:
		in.Action.CatalogID = m.CatalogID
		in.Action.ProductRetailerID = m.ProductID
	case message.TypeProductList:
		in.Action.CatalogID = m.CatalogID
		for _, s := range m.Sections {
			items := make([]productItem, len(s.ProductIDs))
			for i, id := range s.ProductIDs {
				items[i] = productItem{ProductRetailerID: id}
			}
			in.Action.Sections = append(in.Action.Sections, section{Title: s.Title, ProductItems: items})
		}
	}
	return in
}

func renderHeader(h *message.Header) *header {
	if h == nil {
		return nil
	}
	out := &header{Type: h.Type}
	md := &media{ID: h.ID, Link: h.URL, Filename: h.Filename}
	switch h.Type {
	case "text":
		out.Text = h.Text
	case "image":
		out.Image = md
	case "video":
		out.Video = md
	case "document":
		out.Document = md
	}
	return out
}

// requestError is the invalid_request error for a missing request field.
func requestError(field string) *message.Error {
	ps := message.Problems{{Field: field, Problem: "is required"}}
	return &message.Error{Code: message.CodeInvalidRequest, Message: "whatsapp: " + ps.Error(), Details: ps}
}

func recipient(to string) string {
	if strings.HasPrefix(to, "+") {
		return to
	}
	return "+" + to
}
