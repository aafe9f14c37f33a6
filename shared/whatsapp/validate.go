package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// WhatsApp's limits, in characters (code points, see message.Len) unless
// they count things. CHANNEL.md says where each comes from.
const (
	// TextBodyLimit is the most characters a text message's body may hold.
	TextBodyLimit = 4096
	// ListBodyLimit is the most characters a list's body may hold: Meta's
	// list page says 4096, older pages and SDKs 1024 (CHANNEL.md).
	ListBodyLimit = 4096

	interactiveBodyLimit = 1024 // buttons, ctaUrl, product, productList, locationRequest
	headerTextLimit      = 60
	footerLimit          = 60
	listButtonLimit      = 20
	ctaButtonLimit       = 20
	sectionsLimit        = 10
	sectionTitleLimit    = 24
	rowsLimit            = 10
	rowIDLimit           = 200
	rowTitleLimit        = 24
	rowDescriptionLimit  = 72
	buttonsLimit         = 3
	buttonIDLimit        = 256
	buttonTitleLimit     = 20
	productsLimit        = 30
)

// Supports reports whether this package can render messages of type typ.
func Supports(typ string) bool {
	_, ok := uses()[typ]
	return ok
}

// uses names the fields of the send API each supported type reads; any
// other field set is refused. replyTo is allowed everywhere but on a
// reaction.
var uses = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		message.TypeText:            {"text", "previewUrl"},
		message.TypeRichLink:        {"url", "title"},
		message.TypeList:            {"header", "body", "footer", "button", "sections"},
		message.TypeButtons:         {"header", "body", "footer", "buttons"},
		message.TypeReaction:        {"messageId", "emoji"},
		message.TypeProduct:         {"catalogId", "productId", "body", "footer"},
		message.TypeProductList:     {"catalogId", "header", "body", "footer", "sections"},
		message.TypeLocationRequest: {"body"},
		message.TypeCTAURL:          {"header", "body", "footer", "button", "url"},
		message.TypeTemplate:        {"name", "language", "components"},
		message.TypeImage:           {"url", "mediaId", "upload", "mimeType", "caption"},
		message.TypeVideo:           {"url", "mediaId", "upload", "mimeType", "caption"},
		message.TypeAudio:           {"url", "mediaId", "upload", "mimeType"},
		message.TypeDocument:        {"url", "mediaId", "upload", "mimeType", "caption", "filename"},
		message.TypeSticker:         {"url", "mediaId", "upload", "mimeType"},
	}
})

// messageField is a field of message.Message, by its send API name.
type messageField struct {
	name  string
	index int
}

// messageFields are the fields of message.Message but its type, in the
// order problems are reported. They are read from the struct so that a
// field added to the model is refused here until a type uses it.
var messageFields = sync.OnceValue(func() []messageField {
	var out []messageField
	t := reflect.TypeFor[message.Message]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && name != "type" {
			out = append(out, messageField{name, i})
		}
	}
	return out
})

// unused says why a field is refused where the generic "not used by …"
// would not help; keyed by "type.field" or by field.
var unused = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"reaction.replyTo":       "a reaction cannot be a reply; messageId names the message it reacts to",
		"richLink.image":         "not used on WhatsApp, which previews the page itself; set adapt to send the link without it",
		"richLink.videoUrl":      "not used on WhatsApp, which previews the page itself; set adapt to send the link without it",
		"list.multipleSelection": "WhatsApp lists take a single choice",
		"images":                 "not used on WhatsApp (Apple only)",
		"bubble":                 "not used on WhatsApp (Apple only)",
		"replyBubble":            "not used on WhatsApp (Apple only)",
		"attachments":            "not used on WhatsApp (Apple only)",
		"locale":                 "not used on WhatsApp (Apple only)",
		"automated":              "not used on WhatsApp (Apple only)",
		"agent":                  "not used on WhatsApp (Apple only)",
		"sessionIdentifier":      "not used on WhatsApp (Apple only)",
		"buttons.sections":       "not used by buttons messages; a list has sections (set adapt to send more than 3 options as a list)",
	}
})

// Validate returns what is wrong with m by WhatsApp's limits, each problem
// naming the field of the send API and the limit. Types this package does
// not support yield no problems: callers refuse them with Supports.
func Validate(m message.Message) message.Problems {
	own, ok := uses()[m.Type]
	if !ok {
		return nil
	}
	var ps message.Problems
	v := reflect.ValueOf(&m).Elem()
	for _, f := range messageFields() {
		if v.Field(f.index).IsZero() || slices.Contains(own, f.name) || (f.name == "replyTo" && m.Type != message.TypeReaction) {
			continue
		}
		why := unused()[m.Type+"."+f.name]
		if why == "" {
			why = unused()[f.name]
		}
		if why == "" {
			why = fmt.Sprintf("not used by %s messages", m.Type)
		}
		ps.Add("message."+f.name, "%s", why)
	}
	switch m.Type {
	case message.TypeImage, message.TypeVideo, message.TypeAudio, message.TypeDocument, message.TypeSticker:
		validateMedia(&ps, m)
	case message.TypeText:
		ps.Required("message.text", m.Text)
		ps.MaxLen("message.text", m.Text, TextBodyLimit)
	case message.TypeRichLink:
		ps.Required("message.title", m.Title)
		checkURL(&ps, "message.url", m.URL)
		if n := message.Len(richLinkText(m)); n > TextBodyLimit {
			ps.Add("message.title", "with the url, a text of %d characters, the limit is %d", n, TextBodyLimit)
		}
	case message.TypeList:
		checkHeader(&ps, m, false)
		checkBody(&ps, m.Body, ListBodyLimit, true)
		ps.MaxLen("message.footer", m.Footer, footerLimit)
		ps.Required("message.button", m.Button)
		ps.MaxLen("message.button", m.Button, listButtonLimit)
		checkSections(&ps, m.Sections, false)
	case message.TypeButtons:
		checkHeader(&ps, m, true)
		checkBody(&ps, m.Body, interactiveBodyLimit, true)
		ps.MaxLen("message.footer", m.Footer, footerLimit)
		checkButtons(&ps, m.Buttons)
	case message.TypeReaction:
		ps.Required("message.messageId", m.MessageID)
		if m.Emoji == nil {
			ps.Add("message.emoji", `is required ("" removes the reaction)`)
		}
	case message.TypeProduct:
		ps.Required("message.catalogId", m.CatalogID)
		ps.Required("message.productId", m.ProductID)
		checkBody(&ps, m.Body, interactiveBodyLimit, false)
		ps.MaxLen("message.footer", m.Footer, footerLimit)
	case message.TypeProductList:
		ps.Required("message.catalogId", m.CatalogID)
		if m.Header == nil {
			ps.Add("message.header", "is required for productList messages (a text header)")
		}
		checkHeader(&ps, m, false)
		checkBody(&ps, m.Body, interactiveBodyLimit, true)
		ps.MaxLen("message.footer", m.Footer, footerLimit)
		checkSections(&ps, m.Sections, true)
	case message.TypeLocationRequest:
		checkBody(&ps, m.Body, interactiveBodyLimit, true)
	case message.TypeCTAURL:
		checkHeader(&ps, m, true)
		checkBody(&ps, m.Body, interactiveBodyLimit, true)
		ps.MaxLen("message.footer", m.Footer, footerLimit)
		ps.Required("message.button", m.Button)
		ps.MaxLen("message.button", m.Button, ctaButtonLimit)
		checkURL(&ps, "message.url", m.URL)
	case message.TypeTemplate:
		ps.Required("message.name", m.Name)
		ps.Required("message.language", m.Language)
		checkComponents(&ps, m.Components)
	}
	return ps
}

func checkBody(ps *message.Problems, body string, limit int, required bool) {
	if required {
		ps.Required("message.body", body)
	}
	ps.MaxLen("message.body", body, limit)
}

// checkHeader checks m.Header; media headers are allowed only when media
// is true (lists and product lists take text headers only).
func checkHeader(ps *message.Problems, m message.Message, media bool) {
	h := m.Header
	if h == nil {
		return
	}
	switch h.Type {
	case "text":
		ps.Required("message.header.text", h.Text)
		ps.MaxLen("message.header.text", h.Text, headerTextLimit)
		for _, f := range []struct{ name, value string }{{"url", h.URL}, {"id", h.ID}, {"filename", h.Filename}} {
			if f.value != "" {
				ps.Add("message.header."+f.name, "not used by text headers")
			}
		}
		return
	case "image", "video", "document":
		if !media {
			ps.Add("message.header.type", "%q headers are not used by %s messages: their header is text", h.Type, m.Type)
			return
		}
	case "":
		ps.Add("message.header.type", "is required: text, image, video or document")
		return
	default:
		ps.Add("message.header.type", "%q is not a header type: text, image, video or document", h.Type)
		return
	}
	switch {
	case h.URL == "" && h.ID == "":
		ps.Add("message.header", "%s headers need url (a link) or id (a WhatsApp media id)", h.Type)
	case h.URL != "" && h.ID != "":
		ps.Add("message.header", "url and id are both set; give one")
	case h.URL != "":
		checkURL(ps, "message.header.url", h.URL)
	}
	if h.Text != "" {
		ps.Add("message.header.text", "not used by %s headers", h.Type)
	}
	if h.Filename != "" && h.Type != "document" {
		ps.Add("message.header.filename", "not used by %s headers, only by documents", h.Type)
	}
}

// checkSections checks a list's sections (items) or a product list's
// (productIds).
func checkSections(ps *message.Problems, sections []message.Section, products bool) {
	what, limit := "items", rowsLimit
	if products {
		what, limit = "products", productsLimit
	}
	switch n := len(sections); {
	case n == 0:
		ps.Add("message.sections", "is required: 1 to %d sections", sectionsLimit)
		return
	case n > sectionsLimit:
		ps.Add("message.sections", "%d sections, the limit is %d", n, sectionsLimit)
	}
	total := 0
	ids := map[string]string{}
	for i, s := range sections {
		path := fmt.Sprintf("message.sections[%d]", i)
		ps.Required(path+".title", s.Title)
		ps.MaxLen(path+".title", s.Title, sectionTitleLimit)
		if products {
			if s.Items != nil {
				ps.Add(path+".items", "not used by productList messages; a section lists productIds")
			}
			if s.MultipleSelection != nil {
				ps.Add(path+".multipleSelection", "not used by productList messages")
			}
			if len(s.ProductIDs) == 0 {
				ps.Add(path+".productIds", "is required: a section needs at least one product")
			}
			for j, id := range s.ProductIDs {
				ps.Required(fmt.Sprintf("%s.productIds[%d]", path, j), id)
			}
			total += len(s.ProductIDs)
			continue
		}
		if s.ProductIDs != nil {
			ps.Add(path+".productIds", "not used by list messages; a section lists items")
		}
		if s.MultipleSelection != nil && *s.MultipleSelection {
			ps.Add(path+".multipleSelection", "WhatsApp lists take a single choice")
		}
		if len(s.Items) == 0 {
			ps.Add(path+".items", "is required: a section needs at least one item")
		}
		for j, it := range s.Items {
			p := fmt.Sprintf("%s.items[%d]", path, j)
			ps.Required(p+".id", it.ID)
			ps.MaxLen(p+".id", it.ID, rowIDLimit)
			unique(ps, ids, p+".id", it.ID)
			ps.Required(p+".title", it.Title)
			ps.MaxLen(p+".title", it.Title, rowTitleLimit)
			ps.MaxLen(p+".description", it.Description, rowDescriptionLimit)
			if it.ImageID != "" {
				ps.Add(p+".imageId", "not used on WhatsApp (Apple only)")
			}
		}
		total += len(s.Items)
	}
	if total > limit {
		ps.Add("message.sections", "%d %s in total, the limit is %d", total, what, limit)
	}
}

func checkButtons(ps *message.Problems, buttons []message.Option) {
	switch n := len(buttons); {
	case n == 0:
		ps.Add("message.buttons", "is required: 1 to %d buttons", buttonsLimit)
		return
	case n > buttonsLimit:
		ps.Add("message.buttons", "%d buttons, the limit is %d (set adapt to send up to %d options as a list)", n, buttonsLimit, rowsLimit)
	}
	ids, titles := map[string]string{}, map[string]string{}
	for i, b := range buttons {
		p := fmt.Sprintf("message.buttons[%d]", i)
		ps.Required(p+".id", b.ID)
		ps.MaxLen(p+".id", b.ID, buttonIDLimit)
		unique(ps, ids, p+".id", b.ID)
		ps.Required(p+".title", b.Title)
		ps.MaxLen(p+".title", b.Title, buttonTitleLimit)
		unique(ps, titles, p+".title", b.Title)
		if b.Description != "" {
			ps.Add(p+".description", "not used by buttons messages")
		}
		if b.ImageID != "" {
			ps.Add(p+".imageId", "not used on WhatsApp (Apple only)")
		}
	}
}

// unique records a problem when value was seen before under another path;
// seen maps values to the path they first appeared at.
func unique(ps *message.Problems, seen map[string]string, path, value string) {
	if value == "" {
		return
	}
	if first, ok := seen[value]; ok {
		ps.Add(path, "%q repeats %s; each must be unique", value, first)
		return
	}
	seen[value] = path
}

func checkURL(ps *message.Problems, field, s string) {
	if s == "" {
		ps.Add(field, "is required")
		return
	}
	u, err := url.Parse(s)
	if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
		ps.Add(field, "must be an http or https URL")
	}
}

// str returns raw as a non-empty JSON string's value.
func str(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil || s == "" {
		return "", false
	}
	return s, true
}
