package whatsappsim

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Template limits Meta documents for sending.
const (
	templateHeaderTextLimit   = 60
	templateBodyTextLimit     = 1024
	templateBodyOnlyTextLimit = 32768 // a body sent as the only component
	// A card's body holds 160 characters, its variables counted against
	// it; the message body of a carousel template 1024 likewise.
	cardBodyTextLimit     = 160
	couponCodeLimit       = 15
	maxButtonIndex        = 9 // ten buttons at most, and ten cards
	minCards, maxCards    = 2, 10
	maxCardButtons        = 2
	templateSectionsLimit = 10
	// A voice call button lives 1 to 43200 minutes (30 days), and its
	// payload has at most 512 characters.
	voiceCallTTLLimit     = 43200
	voiceCallPayloadLimit = 512
)

var (
	templateComponents   = []string{"header", "body", "button", "limited_time_offer", "carousel"}
	cardComponents       = []string{"header", "body", "button"}
	buttonSubTypes       = []string{"quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "spm", "voice_call", "order_details"}
	cardButtonSubTypes   = []string{"quick_reply", "url", "spm"}
	headerParameterTypes = []string{"text", "currency", "date_time", "image", "video", "document", "location", "product"}
	cardHeaderTypes      = []string{"image", "video", "product"}
	bodyParameterTypes   = []string{"text", "currency", "date_time"}
	// buttonParameterTypes are the parameter types each sub_type takes.
	buttonParameterTypes = map[string][]string{
		"quick_reply": {"payload"}, "url": {"text"}, "copy_code": {"coupon_code"}, "flow": {"action"},
		"catalog": {"action"}, "mpm": {"action"}, "spm": {"action", "product"}, "voice_call": {"payload", "ttl_minutes"},
		"order_details": {"action"},
	}
	// parameterNeeded are the sub_types whose button must carry its
	// parameter.
	parameterNeeded = []string{"url", "copy_code", "mpm", "order_details"}
	componentKeys   = map[string][]string{
		"header": {"type", "parameters"}, "body": {"type", "parameters"}, "limited_time_offer": {"type", "parameters"},
		"button": {"type", "sub_type", "index", "parameters"}, "carousel": {"type", "cards"},
	}
)

// checkTemplate checks a template send and returns its name and language.
func checkTemplate(req params) (name, language string, err error) {
	t, _, err := req.obj("template", true, "name", "language", "components")
	if err != nil {
		return "", "", err
	}
	if name, err = t.nonEmpty("name"); err != nil {
		return "", "", err
	}
	if err := length("Template name", name, 1, templateNameLimit); err != nil {
		return "", "", err
	}
	lang, _, err := t.obj("language", true, "code", "policy")
	if err != nil {
		return "", "", err
	}
	if language, err = lang.nonEmpty("code"); err != nil {
		return "", "", err
	}
	if policy, err := lang.str("policy", false); err != nil {
		return "", "", err
	} else if lang.has("policy") && policy != "deterministic" {
		return "", "", badValue("Param %s must be \"deterministic\", got %q.", lang.at("policy"), policy)
	}
	if !t.has("components") {
		return name, language, nil
	}
	components, err := t.list("components")
	if err != nil {
		return "", "", err
	}
	bodyOnly := false
	if len(components) == 1 {
		var probe struct {
			Type string `json:"type"`
		}
		json.Unmarshal(components[0], &probe)
		bodyOnly = strings.EqualFold(probe.Type, "body")
	}
	if _, err := checkComponents(t, "components", components, false, bodyOnly); err != nil {
		return "", "", err
	}
	return name, language, nil
}

// lower reads p[name] as a required string, lower-cased: Meta takes its
// type names in either case (its catalog example sends "CATALOG").
func lower(p params, name string) (string, error) {
	s, err := p.nonEmpty(name)
	return strings.ToLower(s), err
}

// checkComponents checks parent[key], the components of a template or,
// when card is set, of a carousel card, and returns the type of the
// header's parameter.
func checkComponents(parent params, key string, components []json.RawMessage, card, bodyOnly bool) (headerType string, err error) {
	allowed := templateComponents
	if card {
		allowed = cardComponents
	}
	seen := map[string]bool{}
	indexes := map[int]bool{}
	var headerAndButtons []string
	buttons, carousel := 0, false
	// Each text variable of the body has a limit; on a card or beside a
	// carousel, so have all of them together.
	each, total := templateBodyTextLimit, 0
	switch {
	case card:
		each, total = cardBodyTextLimit, cardBodyTextLimit
	case bodyOnly:
		each = templateBodyOnlyTextLimit
	case holdsCarousel(components):
		total = templateBodyTextLimit
	}
	for i, raw := range components {
		var probe struct {
			Type string `json:"type"`
		}
		json.Unmarshal(raw, &probe)
		typ := strings.ToLower(probe.Type)
		keys, known := componentKeys[typ]
		if !known {
			keys = []string{"type"}
		}
		c, err := parent.item(key, i, raw, keys...)
		if err != nil {
			return "", err
		}
		if typ, err = lower(c, "type"); err != nil {
			return "", err
		}
		if !slices.Contains(allowed, typ) {
			return "", badValue("Param %s must be one of {%s}, got %q.", c.at("type"), strings.Join(allowed, ", "), probe.Type)
		}
		if typ != "button" {
			if seen[typ] {
				return "", badValue("Param %s is a second %s component; a template takes one.", c.path, typ)
			}
			seen[typ] = true
		}
		switch typ {
		case "header":
			headerAndButtons = append(headerAndButtons, c.path)
			if headerType, err = checkTemplateHeader(c, card); err != nil {
				return "", err
			}
		case "body":
			if _, err := templateParameters(c, bodyParameterTypes, "", each); err != nil {
				return "", err
			}
			if n := textRunes(c); total > 0 && n > total {
				what := "Message body"
				if card {
					what = "Card body"
				}
				return "", badValue("%s text length invalid: its variables hold %d characters. Max length: %d", what, n, total)
			}
		case "button":
			buttons++
			headerAndButtons = append(headerAndButtons, c.path)
			if err := checkTemplateButton(c, card, indexes); err != nil {
				return "", err
			}
		case "limited_time_offer":
			ps, err := templateParameters(c, []string{"limited_time_offer"}, "", 0)
			if err != nil {
				return "", err
			}
			if err := count("parameters", len(ps), 0, 1); err != nil {
				return "", err
			}
		case "carousel":
			carousel = true
			if err := checkCarousel(c); err != nil {
				return "", err
			}
		}
	}
	switch {
	case card && !seen["header"]:
		return "", badValue("A carousel card needs a header with an image, a video or a product: %s has none.", parent.at(key))
	case card && buttons > maxCardButtons:
		return "", count("buttons", buttons, 0, maxCardButtons)
	case carousel && len(headerAndButtons) > 0:
		return "", badValue("Param %s is not allowed beside a carousel: its cards carry the headers and buttons.", headerAndButtons[0])
	}
	return headerType, nil
}

// holdsCarousel reports whether components hold a carousel.
func holdsCarousel(components []json.RawMessage) bool {
	for _, raw := range components {
		var probe struct {
			Type string `json:"type"`
		}
		json.Unmarshal(raw, &probe)
		if strings.EqualFold(probe.Type, "carousel") {
			return true
		}
	}
	return false
}

// textRunes counts the characters of a checked component's text
// parameters: what they add to the text Meta renders.
func textRunes(c params) int {
	var list []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(c.m["parameters"], &list)
	n := 0
	for _, p := range list {
		if strings.EqualFold(p.Type, "text") {
			n += utf8.RuneCountInString(p.Text)
		}
	}
	return n
}

func checkTemplateHeader(c params, card bool) (string, error) {
	allowed := headerParameterTypes
	if card {
		allowed = cardHeaderTypes
		if !c.has("parameters") {
			return "", missing(c.at("parameters"))
		}
	}
	ps, err := templateParameters(c, allowed, "", templateHeaderTextLimit)
	if err != nil {
		return "", err
	}
	if err := count("parameters", len(ps), 0, 1); err != nil {
		return "", err
	}
	if card && len(ps) == 0 {
		return "", missing(c.at("parameters") + "[0]")
	}
	if len(ps) == 0 {
		return "", nil
	}
	return ps[0], nil
}

// checkTemplateButton checks a button's sub_type, its index (0 to 9, as a
// string or a number, once each among indexes) and its parameter.
func checkTemplateButton(c params, card bool, indexes map[int]bool) error {
	allowed := buttonSubTypes
	if card {
		allowed = cardButtonSubTypes
	}
	sub, err := lower(c, "sub_type")
	if err != nil {
		return err
	}
	if !slices.Contains(allowed, sub) {
		return badValue("Param %s must be one of {%s}, got %s.", c.at("sub_type"), strings.Join(allowed, ", "), c.m["sub_type"])
	}
	// Meta's voice call button example sends no index: the template has
	// one such button.
	if sub != "voice_call" || c.has("index") {
		i, err := buttonIndex(c)
		if err != nil {
			return err
		}
		if indexes[i] {
			return badValue("Param %s repeats button index %d; each button has its own.", c.at("index"), i)
		}
		indexes[i] = true
	}
	if slices.Contains(parameterNeeded, sub) && !c.has("parameters") {
		return missing(c.at("parameters"))
	}
	ps, err := templateParameters(c, buttonParameterTypes[sub], sub, 0)
	if err != nil {
		return err
	}
	if slices.Contains(parameterNeeded, sub) && len(ps) == 0 {
		return missing(c.at("parameters") + "[0]")
	}
	if sub == "voice_call" {
		// Meta's example sends both a ttl_minutes and a payload.
		if len(ps) == 2 && ps[0] == ps[1] {
			return badValue("Param %s repeats a %s parameter; a voice_call button takes one ttl_minutes and one payload.", c.at("parameters"), ps[1])
		}
		return count("parameters", len(ps), 0, 2)
	}
	return count("parameters", len(ps), 0, 1)
}

// buttonIndex reads a button component's index: 0 to 9, as a string in
// most of Meta's examples or as a JSON number in others.
func buttonIndex(c params) (int, error) {
	if !c.has("index") {
		return 0, missing(c.at("index"))
	}
	i, ok := position(c.m["index"])
	if !ok {
		return 0, badValue("Param %s must be a button index from 0 to %d, got %s.", c.at("index"), maxButtonIndex, c.m["index"])
	}
	return i, nil
}

// position reads a digit string or a whole JSON number from 0 to 9.
func position(raw json.RawMessage) (int, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	} else if strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0 && i <= maxButtonIndex
}

// checkCarousel checks a carousel's 2 to 10 cards, each with its own
// card_index and components, all with the same kind of header.
func checkCarousel(c params) error {
	cards, err := c.list("cards")
	if err != nil {
		return err
	}
	if err := count("cards", len(cards), minCards, maxCards); err != nil {
		return err
	}
	indexes := map[int]bool{}
	first := ""
	for j, raw := range cards {
		card, err := c.item("cards", j, raw, "card_index", "components")
		if err != nil {
			return err
		}
		if !card.has("card_index") {
			return missing(card.at("card_index"))
		}
		i, ok := position(card.m["card_index"])
		if !ok {
			return badValue("Param %s must be a card index from 0 to %d, got %s.", card.at("card_index"), maxCards-1, card.m["card_index"])
		}
		if indexes[i] {
			return badValue("Param %s repeats card index %d; each card has its own.", card.at("card_index"), i)
		}
		indexes[i] = true
		components, err := card.list("components")
		if err != nil {
			return err
		}
		header, err := checkComponents(card, "components", components, true, false)
		if err != nil {
			return err
		}
		if first == "" {
			first = header
		} else if header != first {
			return badValue("Every carousel card has the same kind of header: %s has %s, the first card %s.", card.path, header, first)
		}
	}
	return nil
}

// templateParameters checks c's parameters, when there are any, against
// the allowed types and returns their types. sub is the button's
// sub_type; limit bounds text parameters.
func templateParameters(c params, allowed []string, sub string, limit int) ([]string, error) {
	if !c.has("parameters") {
		return nil, nil
	}
	list, err := c.list("parameters")
	if err != nil {
		return nil, err
	}
	var types []string
	for j, raw := range list {
		var probe struct {
			Type string `json:"type"`
		}
		json.Unmarshal(raw, &probe)
		typ := strings.ToLower(probe.Type)
		p, err := c.item("parameters", j, raw, "type", "parameter_name", typ)
		if err != nil {
			return nil, err
		}
		if _, err := p.nonEmpty("type"); err != nil {
			return nil, err
		}
		if !slices.Contains(allowed, typ) {
			if sub == "quick_reply" {
				return nil, badValue("Param %s of a quick_reply button must be \"payload\", got %q.", p.at("type"), probe.Type)
			}
			return nil, badValue("Param %s must be one of {%s}, got %q.", p.at("type"), strings.Join(allowed, ", "), probe.Type)
		}
		if p.has("parameter_name") {
			if _, err := p.nonEmpty("parameter_name"); err != nil {
				return nil, err
			}
		}
		if err := checkParameterValue(p, typ, sub, limit); err != nil {
			return nil, err
		}
		types = append(types, typ)
	}
	return types, nil
}

// checkParameterValue checks the value p's type names.
func checkParameterValue(p params, typ, sub string, limit int) error {
	switch typ {
	case "text", "payload", "coupon_code":
		s, err := p.nonEmpty(typ)
		if err != nil {
			return err
		}
		switch {
		case typ == "coupon_code":
			return length("Coupon code", s, 1, couponCodeLimit)
		case typ == "payload" && sub == "voice_call":
			return length("Payload", s, 1, voiceCallPayloadLimit)
		case typ == "text" && (strings.ContainsAny(s, "\n\t") || strings.Contains(s, "     ")):
			return badParam("Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
		case typ == "text" && limit > 0:
			return length("Parameter text", s, 1, limit)
		}
		return nil
	case "ttl_minutes":
		if i, ok := wholeNumber(p.m[typ]); ok && i > voiceCallTTLLimit {
			return badParam("Param %s must be between 1 and %d, got %s.", p.at(typ), voiceCallTTLLimit, p.m[typ])
		}
		return positive(p, typ)
	case "limited_time_offer":
		o, _, err := p.obj(typ, true, "expiration_time_ms")
		if err != nil {
			return err
		}
		return positive(o, "expiration_time_ms")
	case "currency":
		o, _, err := p.obj(typ, true, "fallback_value", "code", "amount_1000")
		if err != nil {
			return err
		}
		if _, err := o.nonEmpty("fallback_value"); err != nil {
			return err
		}
		code, err := o.nonEmpty("code")
		if err != nil {
			return err
		}
		if len(code) != 3 || strings.ToUpper(code) != code {
			return badValue("Param %s must be an ISO 4217 currency code, got %q.", o.at("code"), code)
		}
		if _, ok := wholeNumber(o.m["amount_1000"]); !ok {
			return badParam("Param %s must be an integer.", o.at("amount_1000"))
		}
		return nil
	case "date_time":
		// Meta renders fallback_value only; the older calendar fields
		// pass unread.
		if !p.has(typ) {
			return missing(p.at(typ))
		}
		var o map[string]json.RawMessage
		if json.Unmarshal(p.m[typ], &o) != nil || o == nil {
			return badParam("Param %s must be a JSON object.", p.at(typ))
		}
		_, err := params{path: p.at(typ), m: o}.nonEmpty("fallback_value")
		return err
	case "image", "video", "document":
		// caption is a key of Meta's media object, which a template
		// header takes and does not show.
		keys := []string{"id", "link", "caption"}
		if typ == "document" {
			keys = append(keys, "filename")
		}
		media, _, err := p.obj(typ, true, keys...)
		if err != nil {
			return err
		}
		return checkMedia(media)
	case "location":
		o, _, err := p.obj(typ, true, "latitude", "longitude", "name", "address")
		if err != nil {
			return err
		}
		if err := degrees(o, "latitude", 90); err != nil {
			return err
		}
		if err := degrees(o, "longitude", 180); err != nil {
			return err
		}
		for _, k := range []string{"name", "address"} {
			if _, err := o.str(k, false); err != nil {
				return err
			}
		}
		return nil
	case "product":
		o, _, err := p.obj(typ, true, "product_retailer_id", "catalog_id")
		if err != nil {
			return err
		}
		if _, err := o.nonEmpty("product_retailer_id"); err != nil {
			return err
		}
		_, err = o.nonEmpty("catalog_id")
		return err
	case "action":
		return checkTemplateAction(p, sub)
	}
	return nil
}

// checkTemplateAction checks a button's action parameter by its sub_type.
func checkTemplateAction(p params, sub string) error {
	keys := map[string][]string{
		"flow":    {"flow_token", "flow_action_data"},
		"catalog": {"thumbnail_product_retailer_id"},
		"mpm":     {"thumbnail_product_retailer_id", "sections"},
		// The order is read by the payments rules of its country.
		"order_details": {"order_details"},
	}[sub]
	if keys == nil {
		// An spm button's action is not documented for sending; its
		// contents pass unread.
		_, _, err := p.obj("action", true, sortedKeys(objectOf(p.m["action"]))...)
		return err
	}
	a, _, err := p.obj("action", true, keys...)
	if err != nil {
		return err
	}
	switch sub {
	case "flow":
		if a.has("flow_token") {
			if _, err := a.nonEmpty("flow_token"); err != nil {
				return err
			}
		}
		if a.has("flow_action_data") {
			if o := objectOf(a.m["flow_action_data"]); o == nil {
				return badParam("Param %s must be a JSON object.", a.at("flow_action_data"))
			}
		}
	case "catalog":
		if a.has("thumbnail_product_retailer_id") {
			_, err = a.nonEmpty("thumbnail_product_retailer_id")
		}
	case "mpm":
		if _, err := a.nonEmpty("thumbnail_product_retailer_id"); err != nil {
			return err
		}
		err = checkTemplateSections(a)
	case "order_details":
		if o := objectOf(a.m["order_details"]); o == nil {
			return badParam("Param %s must be a JSON object.", a.at("order_details"))
		}
	}
	return err
}

// checkTemplateSections checks a multi-product button's 1 to 10 sections:
// titled (required when there are several), at most 30 products in all.
func checkTemplateSections(a params) error {
	sections, err := a.list("sections")
	if err != nil {
		return err
	}
	if err := count("sections", len(sections), 1, templateSectionsLimit); err != nil {
		return err
	}
	products := 0
	for i, raw := range sections {
		sec, err := a.item("sections", i, raw, "title", "product_items")
		if err != nil {
			return err
		}
		if len(sections) > 1 {
			if _, err := sec.nonEmpty("title"); err != nil {
				return err
			}
		}
		title, err := sec.str("title", false)
		if err != nil {
			return err
		}
		if err := length("Section title", title, 0, sectionTitleLimit); err != nil {
			return err
		}
		if err := checkProductItems(sec, &products); err != nil {
			return err
		}
	}
	return nil
}

func objectOf(raw json.RawMessage) map[string]json.RawMessage {
	var o map[string]json.RawMessage
	json.Unmarshal(raw, &o)
	return o
}

// wholeNumber reads raw as a JSON number (not a string) with no fraction.
func wholeNumber(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || raw[0] == '"' {
		return 0, false
	}
	i, err := strconv.ParseInt(string(raw), 10, 64)
	return i, err == nil
}

// positive checks that p[name] is a whole number above 0.
func positive(p params, name string) error {
	if !p.has(name) {
		return missing(p.at(name))
	}
	if i, ok := wholeNumber(p.m[name]); !ok || i <= 0 {
		return badParam("Param %s must be a positive integer, got %s.", p.at(name), p.m[name])
	}
	return nil
}

// degrees checks a latitude or longitude: a number, or a string holding
// one as in Meta's location header example, within ±limit.
func degrees(p params, name string, limit float64) error {
	if !p.has(name) {
		return missing(p.at(name))
	}
	raw := p.m[name]
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > limit {
		return badValue("Param %s must be degrees from -%g to %g, got %s.", p.at(name), limit, limit, raw)
	}
	return nil
}
