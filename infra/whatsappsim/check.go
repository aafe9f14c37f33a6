package whatsappsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Meta's limits, in characters (code points), from its message pages
// ("Text messages", "Interactive list messages", "Interactive reply buttons
// messages" and the others; FIDELITY.md).
const (
	textBodyLimit        = 4096
	interactiveBodyLimit = 1024
	listBodyLimit        = 4096
	headerTextLimit      = 60
	footerTextLimit      = 60
	buttonIDLimit        = 256
	buttonTitleLimit     = 20
	maxButtons           = 3
	listButtonLimit      = 20
	maxSections          = 10
	maxRows              = 10
	rowIDLimit           = 200
	rowTitleLimit        = 24
	rowDescriptionLimit  = 72
	sectionTitleLimit    = 24
	displayTextLimit     = 20
	maxProducts          = 30
	callbackDataLimit    = 512
	templateNameLimit    = 512
	// emojiLimit bounds the code points of one emoji: the longest
	// sequences (families, flags of subdivisions) stay under it.
	emojiLimit = 10
)

// messageTypes are the top-level types Meta knows on the send endpoint.
var messageTypes = []string{"audio", "contacts", "document", "image", "interactive", "location",
	"reaction", "sticker", "template", "text", "video"}

// simulated are the top-level types the simulator checks and accepts.
var simulated = []string{"interactive", "reaction", "template", "text", "image", "video", "audio", "document", "sticker"}

// headerTypes are, by interactive type, the header types Meta allows; a
// type without any allows no header.
var headerTypes = map[string][]string{
	"button":                   {"text", "image", "video", "document"},
	"list":                     {"text"},
	"cta_url":                  {"text", "image", "video", "document"},
	"location_request_message": nil,
	"product":                  nil,
	"product_list":             {"text"},
	"flow":                     {"text", "image", "video", "document"},
	"catalog_message":          nil,
}

// interactiveTypes are the interactive types in the order Meta lists them.
var interactiveTypes = []string{"button", "list", "cta_url", "location_request_message",
	"product", "product_list", "flow", "catalog_message"}

// fault is a request Meta refuses: its HTTP status, Meta's error code and
// the details naming the parameter at fault.
type fault struct {
	status  int
	code    int
	details string
}

func (f *fault) Error() string { return fmt.Sprintf("(#%d) %s", f.code, f.details) }

// badParam is code 100: a parameter of the wrong JSON type, unknown, or
// (for text) too long.
func badParam(format string, args ...any) *fault {
	return &fault{http.StatusBadRequest, 100, fmt.Sprintf(format, args...)}
}

// badValue is code 131009: a parameter's value out of Meta's rules.
func badValue(format string, args ...any) *fault {
	return &fault{http.StatusBadRequest, 131009, fmt.Sprintf(format, args...)}
}

func missing(path string) *fault {
	return badParam("The parameter %s is required.", path)
}

// length checks that s has min to max characters, in Meta's words.
func length(what, s string, min, max int) error {
	if n := utf8.RuneCountInString(s); n < min || n > max {
		return badValue("%s length invalid. Min length: %d, Max length: %d", what, min, max)
	}
	return nil
}

// count checks that there are min to max of what, in Meta's words.
func count(what string, n, min, max int) error {
	if n < min || n > max {
		return badValue("Invalid %[1]s count. Min allowed %[1]s: %[2]d, Max allowed %[1]s: %[3]d", what, min, max)
	}
	return nil
}

// params is a JSON object of the request, with its path as Meta names it
// in errors, e.g. interactive['action']['buttons'][0].
type params struct {
	path string
	m    map[string]json.RawMessage
}

// object reads raw, at path, as a JSON object with only the allowed keys.
func object(raw json.RawMessage, path string, allowed ...string) (params, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return params{}, badParam("Param %s must be a JSON object.", path)
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return params{}, badParam("Unexpected key %q on param %s.", k, path)
		}
	}
	return params{path: path, m: m}, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (p params) at(name string) string {
	if p.path == "" {
		return name
	}
	return p.path + "['" + name + "']"
}

func (p params) has(name string) bool {
	raw, ok := p.m[name]
	return ok && string(raw) != "null"
}

// str reads the string name; absent, it is "" or, when required, a fault.
func (p params) str(name string, required bool) (string, error) {
	if !p.has(name) {
		if required {
			return "", missing(p.at(name))
		}
		return "", nil
	}
	var s string
	if json.Unmarshal(p.m[name], &s) != nil {
		return "", badParam("Param %s must be a string.", p.at(name))
	}
	return s, nil
}

// nonEmpty reads the string name, required and not empty.
func (p params) nonEmpty(name string) (string, error) {
	s, err := p.str(name, true)
	if err == nil && strings.TrimSpace(s) == "" {
		err = missing(p.at(name))
	}
	return s, err
}

// obj reads the object name with the allowed keys; present says it is
// there.
func (p params) obj(name string, required bool, allowed ...string) (o params, present bool, err error) {
	if !p.has(name) {
		if required {
			return params{}, false, missing(p.at(name))
		}
		return params{}, false, nil
	}
	o, err = object(p.m[name], p.at(name), allowed...)
	return o, true, err
}

// list reads the array name, required.
func (p params) list(name string) ([]json.RawMessage, error) {
	if !p.has(name) {
		return nil, missing(p.at(name))
	}
	var l []json.RawMessage
	if json.Unmarshal(p.m[name], &l) != nil {
		return nil, badParam("Param %s must be an array.", p.at(name))
	}
	return l, nil
}

// item reads element i of the array name as an object.
func (p params) item(name string, i int, raw json.RawMessage, allowed ...string) (params, error) {
	return object(raw, fmt.Sprintf("%s[%d]", p.at(name), i), allowed...)
}

// groupTypes are the message types Meta's Groups API sends: text, media
// and templates (text- or media-based), no interactive, commerce or
// reaction messages.
var groupTypes = []string{"text", "template", "image", "audio", "video", "document", "sticker"}

// checked is what the simulator keeps from a valid send request.
type checked struct {
	// to is the recipient: "to", or "recipient" (a business-scoped user
	// id) when recipient is set; group is set for a group send.
	to          string
	recipient   bool
	group       bool
	typ         string
	interactive string
	// template and language name the template sent.
	template, language string
	// reactTo is the message a reaction targets.
	reactTo string
	// mediaID is the media id a media message sends.
	mediaID string
}

// check checks a send request the way Meta does and returns what the
// simulator needs of it.
func check(body []byte) (checked, error) {
	var c checked
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return c, badParam("The request body is not a JSON object.")
	}
	req := params{m: m}
	if !req.has("messaging_product") {
		return c, missing("messaging_product")
	}
	if product, err := req.str("messaging_product", true); err != nil || product != "whatsapp" {
		return c, badValue("Param messaging_product must be \"whatsapp\", got %s.", m["messaging_product"])
	}
	if req.has("recipient_type") {
		rt, err := req.str("recipient_type", false)
		if err != nil || (rt != "individual" && rt != "group") {
			return c, badValue("Param recipient_type must be \"individual\" or \"group\", got %s.", m["recipient_type"])
		}
		c.group = rt == "group"
	}
	// A business-scoped user id goes in "recipient"; "to", when also
	// there, wins (Meta's rule).
	if !c.group && !req.has("to") && req.has("recipient") {
		id, err := req.nonEmpty("recipient")
		if err != nil {
			return c, err
		}
		if !isBSUID(id) {
			return c, badValue("Param recipient must be a business-scoped user id such as US.13491208655302741918, got %q.", id)
		}
		c.to, c.recipient = id, true
	} else {
		to, err := req.nonEmpty("to")
		if err != nil {
			return c, err
		}
		c.to = to
	}
	typ := "text" // Meta's default
	if req.has("type") {
		t, err := req.str("type", false)
		if err != nil || !slices.Contains(messageTypes, t) {
			return c, badParam("Param type must be one of {%s}, got %s.", strings.ToUpper(strings.Join(messageTypes, ", ")), m["type"])
		}
		typ = t
	}
	if !slices.Contains(simulated, typ) {
		return c, badParam("The WhatsApp simulator does not simulate messages of type %q.", typ)
	}
	c.typ = typ
	if req.has("context") {
		if typ == "reaction" {
			return c, badValue("A reaction message cannot be a contextual reply: remove context.")
		}
		ctx, _, err := req.obj("context", true, "message_id")
		if err != nil {
			return c, err
		}
		if _, err := ctx.nonEmpty("message_id"); err != nil {
			return c, err
		}
	}
	if req.has("biz_opaque_callback_data") {
		data, err := req.str("biz_opaque_callback_data", false)
		if err != nil {
			return c, err
		}
		if err := length("biz_opaque_callback_data", data, 0, callbackDataLimit); err != nil {
			return c, err
		}
	}
	if c.group && !slices.Contains(groupTypes, typ) {
		return c, badValue("Messages of type %s cannot be sent to a group: groups take text, media and templates.", typ)
	}
	var err error
	switch typ {
	case "text":
		err = checkText(req)
	case "interactive":
		c.interactive, err = checkInteractive(req)
	case "reaction":
		c.reactTo, err = checkReaction(req)
	case "template":
		c.template, c.language, err = checkTemplate(req)
	case "image", "video", "audio", "document", "sticker":
		c.mediaID, err = checkMediaMessage(req, typ)
	}
	if err == nil && c.group && typ == "template" {
		err = checkGroupTemplate(req)
	}
	return c, err
}

// checkGroupTemplate refuses commerce (catalog, product, order) and
// calling buttons in a template sent to a group, on the template or on
// its carousel's cards: groups take neither.
func checkGroupTemplate(req params) error {
	var t struct {
		Components json.RawMessage `json:"components"`
	}
	json.Unmarshal(req.m["template"], &t)
	return groupButtons("template.components", t.Components)
}

func groupButtons(path string, components json.RawMessage) error {
	var comps []struct {
		Type    string `json:"type"`
		SubType string `json:"sub_type"`
		Cards   []struct {
			Components json.RawMessage `json:"components"`
		} `json:"cards"`
	}
	json.Unmarshal(components, &comps)
	for i, c := range comps {
		at := fmt.Sprintf("%s[%d]", path, i)
		if strings.EqualFold(c.Type, "button") {
			switch strings.ToLower(c.SubType) {
			case "catalog", "mpm", "spm", "order_details":
				return badValue("Param %s.sub_type %s cannot be sent to a group: groups take no commerce messages.", at, c.SubType)
			case "voice_call":
				return badValue("Param %s.sub_type %s cannot be sent to a group: the Calling API is not supported in groups.", at, c.SubType)
			}
		}
		for j, card := range c.Cards {
			if err := groupButtons(fmt.Sprintf("%s.cards[%d].components", at, j), card.Components); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkText(req params) error {
	text, _, err := req.obj("text", true, "body", "preview_url")
	if err != nil {
		return err
	}
	b, err := text.nonEmpty("body")
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(b) > textBodyLimit {
		return badParam("Param %s must be at most %d characters long.", text.at("body"), textBodyLimit)
	}
	if text.has("preview_url") {
		var p bool
		if json.Unmarshal(text.m["preview_url"], &p) != nil {
			return badParam("Param %s must be a boolean.", text.at("preview_url"))
		}
	}
	return nil
}

func checkInteractive(req params) (string, error) {
	in, _, err := req.obj("interactive", true, "type", "header", "body", "footer", "action")
	if err != nil {
		return "", err
	}
	typ, err := in.str("type", true)
	if err != nil {
		return "", err
	}
	if !slices.Contains(interactiveTypes, typ) {
		return "", badValue("Param %s must be one of {%s}, got %q.", in.at("type"), strings.Join(interactiveTypes, ", "), typ)
	}
	if err := checkHeader(in, typ); err != nil {
		return "", err
	}
	bodyLimit, bodyRequired := interactiveBodyLimit, true
	switch typ {
	case "list":
		bodyLimit = listBodyLimit
	case "product":
		bodyRequired = false
	}
	if err := checkTextObject(in, "body", "Body text", bodyRequired, bodyLimit); err != nil {
		return "", err
	}
	if typ == "location_request_message" && in.has("footer") {
		return "", badValue("A footer is not allowed in an interactive message of type location_request_message.")
	}
	if err := checkTextObject(in, "footer", "Footer text", false, footerTextLimit); err != nil {
		return "", err
	}
	var action params
	switch typ {
	case "button":
		if action, _, err = in.obj("action", true, "buttons"); err == nil {
			err = checkButtons(action)
		}
	case "list":
		if action, _, err = in.obj("action", true, "button", "sections"); err == nil {
			err = checkList(action)
		}
	case "cta_url":
		if action, _, err = in.obj("action", true, "name", "parameters"); err == nil {
			err = checkCTA(action)
		}
	case "location_request_message":
		if action, _, err = in.obj("action", true, "name"); err == nil {
			err = checkName(action, "send_location")
		}
	case "product":
		if action, _, err = in.obj("action", true, "catalog_id", "product_retailer_id"); err == nil {
			if _, err = action.nonEmpty("catalog_id"); err == nil {
				_, err = action.nonEmpty("product_retailer_id")
			}
		}
	case "product_list":
		if action, _, err = in.obj("action", true, "catalog_id", "sections"); err == nil {
			err = checkProductList(action)
		}
	case "flow":
		if action, _, err = in.obj("action", true, "name", "parameters"); err == nil {
			err = checkFlow(action)
		}
	case "catalog_message":
		if action, _, err = in.obj("action", true, "name", "parameters"); err == nil {
			err = checkCatalog(action)
		}
	}
	return typ, err
}

func checkHeader(in params, typ string) error {
	allowed := headerTypes[typ]
	if !in.has("header") {
		if typ == "product_list" {
			return missing(in.at("header"))
		}
		return nil
	}
	if len(allowed) == 0 {
		return badValue("A header is not allowed in an interactive message of type %s.", typ)
	}
	h, _, err := in.obj("header", true, "type", "text", "image", "video", "document")
	if err != nil {
		return err
	}
	ht, err := h.str("type", true)
	if err != nil {
		return err
	}
	if !slices.Contains(allowed, ht) {
		return badValue("Header type %q is not allowed in an interactive message of type %s; allowed: %s.", ht, typ, strings.Join(allowed, ", "))
	}
	for _, k := range sortedKeys(h.m) {
		if k != "type" && k != ht {
			return badParam("Unexpected key %q on param %s for a header of type %s.", k, h.path, ht)
		}
	}
	if ht == "text" {
		t, err := h.str("text", true)
		if err != nil {
			return err
		}
		return length("Header text", t, 1, headerTextLimit)
	}
	keys := []string{"id", "link"}
	if ht == "document" {
		keys = append(keys, "filename")
	}
	media, _, err := h.obj(ht, true, keys...)
	if err != nil {
		return err
	}
	return checkMedia(media)
}

// checkMedia checks a media object: an uploaded id or an http(s) link,
// not both.
func checkMedia(media params) error {
	switch {
	case media.has("id") && media.has("link"):
		return badParam("Param %s takes an id or a link, not both.", media.path)
	case media.has("id"):
		_, err := media.nonEmpty("id")
		return err
	case media.has("link"):
		link, err := media.nonEmpty("link")
		if err != nil {
			return err
		}
		return checkURL(media.at("link"), link)
	}
	return badParam("The parameter %s or %s is required.", media.at("id"), media.at("link"))
}

func checkURL(path, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badValue("Param %s must be an http or https URL, got %q.", path, s)
	}
	return nil
}

// checkTextObject checks in[name], an object {"text"}, e.g. the body.
func checkTextObject(in params, name, what string, required bool, limit int) error {
	o, present, err := in.obj(name, required, "text")
	if err != nil || !present {
		return err
	}
	t, err := o.str("text", true)
	if err != nil {
		return err
	}
	return length(what, t, 1, limit)
}

// checkName checks action.name, which must be want.
func checkName(action params, want string) error {
	name, err := action.str("name", true)
	if err != nil {
		return err
	}
	if name != want {
		return badValue("Param %s must be %q, got %q.", action.at("name"), want, name)
	}
	return nil
}

func checkButtons(action params) error {
	buttons, err := action.list("buttons")
	if err != nil {
		return err
	}
	if err := count("buttons", len(buttons), 1, maxButtons); err != nil {
		return err
	}
	titles := map[string]bool{}
	for i, raw := range buttons {
		b, err := action.item("buttons", i, raw, "type", "reply")
		if err != nil {
			return err
		}
		if typ, err := b.str("type", true); err != nil {
			return err
		} else if typ != "reply" {
			return badValue("Param %s must be \"reply\", got %q.", b.at("type"), typ)
		}
		reply, _, err := b.obj("reply", true, "id", "title")
		if err != nil {
			return err
		}
		id, err := reply.str("id", true)
		if err != nil {
			return err
		}
		if err := length("Button id", id, 1, buttonIDLimit); err != nil {
			return err
		}
		title, err := reply.str("title", true)
		if err != nil {
			return err
		}
		if err := length("Button title", title, 1, buttonTitleLimit); err != nil {
			return err
		}
		if titles[title] {
			return badValue("Button title must be unique within the message: %q is repeated.", title)
		}
		titles[title] = true
	}
	return nil
}

func checkList(action params) error {
	label, err := action.str("button", true)
	if err != nil {
		return err
	}
	if err := length("Button text", label, 1, listButtonLimit); err != nil {
		return err
	}
	sections, err := action.list("sections")
	if err != nil {
		return err
	}
	if err := count("sections", len(sections), 1, maxSections); err != nil {
		return err
	}
	ids := map[string]bool{}
	rows := 0
	for i, raw := range sections {
		sec, err := action.item("sections", i, raw, "title", "rows")
		if err != nil {
			return err
		}
		if err := checkSectionTitle(sec); err != nil {
			return err
		}
		list, err := sec.list("rows")
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return badValue("Invalid rows count in %s. Min allowed rows: 1", sec.path)
		}
		rows += len(list)
		if rows > maxRows {
			return badValue("Total row count exceeds the max allowed count across all sections. Max allowed rows: %d", maxRows)
		}
		for j, raw := range list {
			row, err := sec.item("rows", j, raw, "id", "title", "description")
			if err != nil {
				return err
			}
			id, err := row.str("id", true)
			if err != nil {
				return err
			}
			if err := length("Row id", id, 1, rowIDLimit); err != nil {
				return err
			}
			if ids[id] {
				return badValue("Row id must be unique within the message: %q is repeated.", id)
			}
			ids[id] = true
			title, err := row.str("title", true)
			if err != nil {
				return err
			}
			if err := length("Row title", title, 1, rowTitleLimit); err != nil {
				return err
			}
			desc, err := row.str("description", false)
			if err != nil {
				return err
			}
			if err := length("Row description", desc, 0, rowDescriptionLimit); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSectionTitle checks a section's title, which the current list page
// requires in every section.
func checkSectionTitle(sec params) error {
	title, err := sec.str("title", true)
	if err != nil {
		return err
	}
	return length("Section title", title, 1, sectionTitleLimit)
}

func checkCTA(action params) error {
	if err := checkName(action, "cta_url"); err != nil {
		return err
	}
	p, _, err := action.obj("parameters", true, "display_text", "url")
	if err != nil {
		return err
	}
	text, err := p.str("display_text", true)
	if err != nil {
		return err
	}
	if err := length("Display text", text, 1, displayTextLimit); err != nil {
		return err
	}
	u, err := p.nonEmpty("url")
	if err != nil {
		return err
	}
	return checkURL(p.at("url"), u)
}

func checkProductList(action params) error {
	if _, err := action.nonEmpty("catalog_id"); err != nil {
		return err
	}
	sections, err := action.list("sections")
	if err != nil {
		return err
	}
	if err := count("sections", len(sections), 1, maxSections); err != nil {
		return err
	}
	products := 0
	for i, raw := range sections {
		sec, err := action.item("sections", i, raw, "title", "product_items")
		if err != nil {
			return err
		}
		if err := checkSectionTitle(sec); err != nil {
			return err
		}
		if err := checkProductItems(sec, &products); err != nil {
			return err
		}
	}
	return nil
}

// checkProductItems checks a section's 1 or more product_items, each with
// a product_retailer_id, adding them to products, which may not pass
// maxProducts across the sections of a message.
func checkProductItems(sec params, products *int) error {
	items, err := sec.list("product_items")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return badValue("Invalid product_items count in %s. Min allowed product_items: 1", sec.path)
	}
	*products += len(items)
	if *products > maxProducts {
		return badValue("Total product count exceeds the max allowed count across all sections. Max allowed products: %d", maxProducts)
	}
	for j, raw := range items {
		item, err := sec.item("product_items", j, raw, "product_retailer_id")
		if err != nil {
			return err
		}
		if _, err := item.nonEmpty("product_retailer_id"); err != nil {
			return err
		}
	}
	return nil
}

func checkFlow(action params) error {
	if err := checkName(action, "flow"); err != nil {
		return err
	}
	p, _, err := action.obj("parameters", true, "flow_message_version", "flow_token", "flow_id", "flow_name",
		"flow_cta", "mode", "flow_action", "flow_action_payload")
	if err != nil {
		return err
	}
	if v, err := p.str("flow_message_version", true); err != nil {
		return err
	} else if v != "3" {
		return badValue("Param %s must be \"3\", got %q.", p.at("flow_message_version"), v)
	}
	if p.has("flow_id") == p.has("flow_name") {
		return badParam("Exactly one of %s and %s is required.", p.at("flow_id"), p.at("flow_name"))
	}
	for _, name := range []string{"flow_id", "flow_name", "flow_token"} {
		if p.has(name) {
			if _, err := p.nonEmpty(name); err != nil {
				return err
			}
		}
	}
	if _, err := p.nonEmpty("flow_cta"); err != nil {
		return err
	}
	for _, e := range []struct {
		name   string
		values []string
	}{{"mode", []string{"draft", "published"}}, {"flow_action", []string{"navigate", "data_exchange"}}} {
		v, err := p.str(e.name, false)
		if err != nil {
			return err
		}
		if p.has(e.name) && !slices.Contains(e.values, v) {
			return badValue("Param %s must be one of {%s}, got %q.", p.at(e.name), strings.Join(e.values, ", "), v)
		}
	}
	payload, present, err := p.obj("flow_action_payload", false, "screen", "data")
	if err != nil || !present {
		return err
	}
	if _, err := payload.str("screen", false); err != nil {
		return err
	}
	if payload.has("data") {
		var data map[string]json.RawMessage
		if json.Unmarshal(payload.m["data"], &data) != nil || len(data) == 0 {
			return badValue("Param %s must be a non-empty JSON object.", payload.at("data"))
		}
	}
	return nil
}

func checkCatalog(action params) error {
	if err := checkName(action, "catalog_message"); err != nil {
		return err
	}
	p, present, err := action.obj("parameters", false, "thumbnail_product_retailer_id")
	if err != nil || !present {
		return err
	}
	_, err = p.str("thumbnail_product_retailer_id", false)
	return err
}

// checkReaction checks a reaction and returns the message it targets.
func checkReaction(req params) (string, error) {
	r, _, err := req.obj("reaction", true, "message_id", "emoji")
	if err != nil {
		return "", err
	}
	target, err := r.nonEmpty("message_id")
	if err != nil {
		return "", err
	}
	emoji, err := r.str("emoji", true)
	if err != nil {
		return "", err
	}
	if emoji != "" && !isEmoji(emoji) {
		return "", badValue("Param %s must be a single emoji (or \"\" to remove a reaction), got %q.", r.at("emoji"), emoji)
	}
	return target, nil
}

// isEmoji reports whether s could be one emoji: a short sequence without
// spaces or letters, with at least one character beyond ASCII (keycaps
// such as "1️⃣" start with an ASCII digit).
func isEmoji(s string) bool {
	if utf8.RuneCountInString(s) > emojiLimit {
		return false
	}
	beyondASCII := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsLetter(r) || unicode.IsControl(r) {
			return false
		}
		beyondASCII = beyondASCII || r >= utf8.RuneSelf
	}
	return beyondASCII
}
