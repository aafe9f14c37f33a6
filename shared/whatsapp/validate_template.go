package whatsapp

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// Limits of a template send, from Meta's "Sending template messages" page
// and the pages of each kind of template (CHANNEL.md).
const (
	// templateHeaderTextLimit bounds a header's text parameter.
	templateHeaderTextLimit = 60
	// templateBodyTextLimit bounds a body's text parameter, and
	// templateBodyOnlyTextLimit one of a body sent as the only component.
	templateBodyTextLimit     = 1024
	templateBodyOnlyTextLimit = 32768
	// cardBodyTextLimit bounds a carousel card's body: its variables
	// count against it, so together they hold no more (Meta's media card
	// carousel page). The message body of a carousel template is bound
	// the same way by templateBodyTextLimit.
	cardBodyTextLimit = 160
	// couponCodeLimit bounds a copy_code button's coupon code.
	couponCodeLimit = 15
	// maxButtonIndex is the last button position: a template has at most
	// ten buttons, numbered 0 to 9; so are a carousel's cards.
	maxButtonIndex = 9
	// A carousel holds 2 to 10 cards, each with at most 2 buttons.
	minCards, maxCards = 2, 10
	cardButtonsLimit   = 2
	// maxSpaces is the longest run of spaces a text parameter may hold.
	maxSpaces = 4
	// A voice call button lives 1 to 43200 minutes (30 days), and its
	// payload has at most 512 characters.
	voiceCallTTLLimit     = 43200
	voiceCallPayloadLimit = 512
)

// Component types, button sub_types and parameter types of a template send.
const (
	compHeader   = "header"
	compBody     = "body"
	compButton   = "button"
	compOffer    = "limited_time_offer"
	compCarousel = "carousel"
)

var (
	componentTypes = []string{compHeader, compBody, compButton, compOffer, compCarousel}
	cardComponents = []string{compHeader, compBody, compButton}
	buttonSubTypes = []string{"quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "spm", "voice_call", "order_details"}
	cardSubTypes   = []string{"quick_reply", "url", "spm"}
	headerParams   = []string{"text", "currency", "date_time", "image", "video", "document", "location", "product"}
	cardHeaders    = []string{"image", "video", "product"}
	bodyParams     = []string{"text", "currency", "date_time"}
	// buttonParams are the parameter types each button sub_type takes.
	buttonParams = sync.OnceValue(func() map[string][]string {
		return map[string][]string{
			"quick_reply": {"payload"},
			"url":         {"text"},
			"copy_code":   {"coupon_code"},
			"flow":        {"action"},
			"catalog":     {"action"},
			"mpm":         {"action"},
			"spm":         {"action", "product"},
			"voice_call":  {"payload", "ttl_minutes"},
			// order_details: the order a payments template (India,
			// Brazil) asks the customer to pay.
			"order_details": {"action"},
		}
	})
	// parameterRequired are the sub_types whose button must carry its
	// parameter: the URL's variable, the code, the products.
	parameterRequired = sync.OnceValue(func() map[string]string {
		return map[string]string{
			"url":           "the text that completes the button's URL (an authentication template's code goes here too)",
			"copy_code":     "a coupon_code parameter, the code the button copies",
			"mpm":           "an action parameter naming the thumbnail product and the sections",
			"order_details": "an action parameter holding the order_details to pay",
		}
	})
	// componentKeys are the keys each component type takes.
	componentKeys = sync.OnceValue(func() map[string][]string {
		return map[string][]string{
			compHeader:   {"type", "parameters"},
			compBody:     {"type", "parameters"},
			compButton:   {"type", "sub_type", "index", "parameters"},
			compOffer:    {"type", "parameters"},
			compCarousel: {"type", "cards"},
		}
	})
)

// jsonObject is a JSON object of a template, read key by key.
type jsonObject map[string]json.RawMessage

// sortedKeys returns o's keys in order, so that problems come out the
// same way each time.
func (o jsonObject) sortedKeys() []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// objects reads raw, at path, as an array of objects; an element that is
// not an object is reported and left nil.
func objects(ps *message.Problems, path string, raw json.RawMessage, what string) ([]jsonObject, bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		ps.Add(path, "must be an array of %s objects", what)
		return nil, false
	}
	out := make([]jsonObject, len(list))
	for i, r := range list {
		var o jsonObject
		if json.Unmarshal(r, &o) != nil || o == nil {
			ps.Add(fmt.Sprintf("%s[%d]", path, i), "must be an object")
			continue
		}
		out[i] = o
	}
	return out, true
}

// enum reads raw as a non-empty string, lower-cased: Meta takes these
// names in either case (its catalog example sends "CATALOG").
func enum(raw json.RawMessage) (string, bool) {
	s, ok := str(raw)
	return strings.ToLower(s), ok
}

// present reports whether key is in o with a value other than null.
func present(o jsonObject, key string) bool {
	raw, ok := o[key]
	return ok && string(raw) != "null"
}

// checkComponents checks a template's components the way Meta does before
// it looks the template up: the component, button and parameter types its
// send reference lists, each parameter's required fields and limits, and
// the shape of limited-time offers and carousels. They are passed to
// WhatsApp as they are.
func checkComponents(ps *message.Problems, raw json.RawMessage) {
	if raw == nil || string(raw) == "null" {
		return
	}
	comps, ok := objects(ps, "message.components", raw, "component")
	if !ok {
		return
	}
	bodyOnly := false
	if len(comps) == 1 && comps[0] != nil {
		typ, _ := enum(comps[0]["type"])
		bodyOnly = typ == compBody
	}
	checkComponentList(ps, "message.components", comps, false, bodyOnly)
}

// checkComponentList checks the components of a template or, when card is
// set, of a carousel card, and returns the type of the header's parameter
// ("" without one).
func checkComponentList(ps *message.Problems, path string, comps []jsonObject, card, bodyOnly bool) (headerType string) {
	allowed := componentTypes
	if card {
		allowed = cardComponents
	}
	first := map[string]string{}   // component type → path of the first one
	indexes := map[int]string{}    // button index → path of the first one
	var buttons, headerAt []string // paths of the buttons and the header
	carousel := ""
	// The body's text limit: each variable's, and, on a card or beside a
	// carousel, that of all its variables together.
	each, total := templateBodyTextLimit, 0
	switch {
	case card:
		each, total = cardBodyTextLimit, cardBodyTextLimit
	case bodyOnly:
		each = templateBodyOnlyTextLimit
	case hasCarousel(comps):
		total = templateBodyTextLimit
	}
	for i, c := range comps {
		if c == nil {
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		typ, ok := enum(c["type"])
		switch {
		case !ok:
			ps.Add(p+".type", "is required: %s", orList(allowed))
			continue
		case card && (typ == compOffer || typ == compCarousel):
			ps.Add(p+".type", "%q components are not used in a carousel card, which takes %s", typ, orList(allowed))
			continue
		case !slices.Contains(allowed, typ):
			ps.Add(p+".type", "%q is not a component type: %s", typ, orList(allowed))
			continue
		}
		for _, k := range c.sortedKeys() {
			if !slices.Contains(componentKeys()[typ], k) {
				ps.Add(p+"."+k, "not used by a %s component", typ)
			}
		}
		if typ != compButton {
			if at, seen := first[typ]; seen {
				ps.Add(p+".type", "a second %s component (%s is the first); a template takes one", typ, at)
			} else {
				first[typ] = p
			}
		}
		switch typ {
		case compHeader:
			headerAt = append(headerAt, p)
			if t := checkHeaderComponent(ps, p, c, card); t != "" && headerType == "" {
				headerType = t
			}
		case compBody:
			prms, _ := parameters(ps, p+".parameters", c["parameters"], bodyParams, "a body")
			sum, over := 0, false
			for _, prm := range prms {
				over = checkText(ps, prm, each) || over
				sum += textLen(prm)
			}
			if total > 0 && sum > total && !over {
				what := "the message body of a carousel template"
				if card {
					what = "a card's body"
				}
				ps.Add(p+".parameters", "%d characters of text variables together, the limit is %d: they count against %s, which holds %d characters with its own text",
					sum, total, what, total)
			}
		case compButton:
			buttons = append(buttons, p)
			checkButtonComponent(ps, p, c, card, indexes)
		case compOffer:
			checkOffer(ps, p, c)
		case compCarousel:
			carousel = p
			checkCarousel(ps, p, c)
		}
	}
	switch {
	case card && len(headerAt) == 0:
		ps.Add(path, "a card needs a header component with an image, a video or a product")
	case card && len(buttons) > cardButtonsLimit:
		ps.Add(path, "%d buttons, the limit is %d per card", len(buttons), cardButtonsLimit)
	case carousel != "":
		for _, at := range append(headerAt, buttons...) {
			ps.Add(at, "not used beside a carousel (%s): its cards carry the headers and buttons", carousel)
		}
	}
	return headerType
}

// checkHeaderComponent checks a header's one parameter and returns its type.
func checkHeaderComponent(ps *message.Problems, path string, c jsonObject, card bool) string {
	allowed, what := headerParams, "a header"
	if card {
		allowed, what = cardHeaders, "a card's header"
	}
	prms, n := parameters(ps, path+".parameters", c["parameters"], allowed, what)
	if card && n == 0 {
		ps.Add(path+".parameters", "is required: a card's header is an image, a video or a product")
	}
	if n > 1 {
		ps.Add(path+".parameters", "%d parameters, the limit is 1: a header takes one text, media, location or product", n)
	}
	for _, prm := range prms {
		checkText(ps, prm, templateHeaderTextLimit)
	}
	if len(prms) == 0 {
		return ""
	}
	return prms[0].typ
}

// checkButtonComponent checks a button's sub_type, its index (0 to 9, as a
// string or a number, once each among indexes) and its parameter.
func checkButtonComponent(ps *message.Problems, path string, c jsonObject, card bool, indexes map[int]string) {
	allowed := buttonSubTypes
	if card {
		allowed = cardSubTypes
	}
	sub, ok := enum(c["sub_type"])
	switch {
	case !ok:
		ps.Add(path+".sub_type", "is required for a button component: %s", orList(allowed))
	case !slices.Contains(allowed, sub):
		where := "a button sub_type"
		if card && slices.Contains(buttonSubTypes, sub) {
			where = "a card's button sub_type"
		}
		ps.Add(path+".sub_type", "%q is not %s: %s", sub, where, orList(allowed))
		sub = ""
	}
	if !present(c, "index") {
		// Meta's voice call button example sends no index.
		if sub != "voice_call" {
			ps.Add(path+".index", `is required for a button component: its 0-based position, e.g. "0" or 0`)
		}
	} else if i, ok := position(c["index"]); !ok {
		// Meta's examples send it as a string, and as a number in its
		// coupon-code, limited-time-offer, catalog and zero-tap examples.
		ps.Add(path+".index", `must be the button's 0-based position, 0 to %d, as a string or a number, e.g. "0" or 0`, maxButtonIndex)
	} else if at, seen := indexes[i]; seen {
		ps.Add(path+".index", "%d repeats %s; each button has its own index", i, at)
	} else {
		indexes[i] = path
	}
	if sub == "" {
		return
	}
	types := buttonParams()[sub]
	prms, n := parameters(ps, path+".parameters", c["parameters"], types, "a "+sub+" button")
	if why, required := parameterRequired()[sub]; required && n == 0 {
		ps.Add(path+".parameters", "is required for a %s button: %s", sub, why)
	}
	switch {
	case sub == "voice_call":
		// Meta's example sends both a ttl_minutes and a payload.
		if n > 2 {
			ps.Add(path+".parameters", "%d parameters, the limit is 2: a voice_call button takes one ttl_minutes and one payload", n)
		} else if len(prms) == 2 && prms[0].typ == prms[1].typ {
			ps.Add(prms[1].path+".type", "a second %s parameter; a voice_call button takes one ttl_minutes and one payload", prms[1].typ)
		}
	case n > 1:
		ps.Add(path+".parameters", "%d parameters, the limit is 1: a button takes one", n)
	}
	for _, prm := range prms {
		switch {
		case prm.typ == "action":
			checkAction(ps, prm, sub)
		case prm.typ == "payload" && sub == "voice_call":
			s, _ := str(prm.obj["payload"])
			ps.MaxLen(prm.path+".payload", s, voiceCallPayloadLimit)
		}
	}
}

// checkOffer checks a limited_time_offer component: at most one parameter,
// the offer's expiry.
func checkOffer(ps *message.Problems, path string, c jsonObject) {
	if _, n := parameters(ps, path+".parameters", c["parameters"], []string{compOffer}, "a limited_time_offer"); n > 1 {
		ps.Add(path+".parameters", "%d parameters, the limit is 1: the offer's expiry", n)
	}
}

// checkCarousel checks a carousel's 2 to 10 cards: each with its own
// card_index and components, and all with the same kind of header.
func checkCarousel(ps *message.Problems, path string, c jsonObject) {
	if !present(c, "cards") {
		ps.Add(path+".cards", "is required: %d to %d cards", minCards, maxCards)
		return
	}
	cards, ok := objects(ps, path+".cards", c["cards"], "card")
	if !ok {
		return
	}
	if n := len(cards); n < minCards || n > maxCards {
		ps.Add(path+".cards", "a carousel takes %d to %d cards, this one has %d", minCards, maxCards, n)
	}
	indexes := map[int]string{}
	firstHeader, firstAt := "", ""
	for j, card := range cards {
		if card == nil {
			continue
		}
		p := fmt.Sprintf("%s.cards[%d]", path, j)
		for _, k := range card.sortedKeys() {
			if k != "card_index" && k != "components" {
				ps.Add(p+"."+k, "not used by a carousel card")
			}
		}
		if !present(card, "card_index") {
			ps.Add(p+".card_index", "is required: the card's 0-based position, e.g. 0")
		} else if i, ok := position(card["card_index"]); !ok {
			ps.Add(p+".card_index", "must be the card's 0-based position, 0 to %d, e.g. 0", maxCards-1)
		} else if at, seen := indexes[i]; seen {
			ps.Add(p+".card_index", "%d repeats %s; each card has its own index", i, at)
		} else {
			indexes[i] = p
		}
		if !present(card, "components") {
			ps.Add(p+".components", "is required: a header, and the card's body and buttons")
			continue
		}
		comps, ok := objects(ps, p+".components", card["components"], "component")
		if !ok {
			continue
		}
		header := checkComponentList(ps, p+".components", comps, true, false)
		switch {
		case header == "":
		case firstHeader == "":
			firstHeader, firstAt = header, p
		case header != firstHeader:
			ps.Add(p+".components", "its header is %s where %s's is %s; every card has the same kind of header", header, firstAt, firstHeader)
		}
	}
}

// templateParameter is a parameter object of a component, by its type.
type templateParameter struct {
	path string
	typ  string
	obj  jsonObject
}

// parameters checks raw, when present, as an array of parameters of the
// allowed types (in a what), each with the fields its type needs, and
// returns those of an allowed type with a value, and how many there are
// in all.
func parameters(ps *message.Problems, path string, raw json.RawMessage, allowed []string, what string) ([]templateParameter, int) {
	if raw == nil || string(raw) == "null" {
		return nil, 0
	}
	list, ok := objects(ps, path, raw, "parameter")
	if !ok {
		return nil, 0
	}
	var out []templateParameter
	for j, o := range list {
		if o == nil {
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, j)
		typ, ok := enum(o["type"])
		switch {
		case !ok:
			ps.Add(p+".type", "is required: %s", orList(allowed))
			continue
		case len(allowed) == 1 && typ != allowed[0]:
			ps.Add(p+".type", "must be %q in %s", allowed[0], what)
			continue
		case !slices.Contains(allowed, typ):
			ps.Add(p+".type", "%q is not used in %s: %s", typ, what, orList(allowed))
			continue
		}
		for _, k := range o.sortedKeys() {
			if k != "type" && k != "parameter_name" && k != typ {
				ps.Add(p+"."+k, "not used by a %s parameter", typ)
			}
		}
		if present(o, "parameter_name") {
			if _, ok := nonBlank(o["parameter_name"]); !ok {
				ps.Add(p+".parameter_name", "must be the name of the template's variable, a string")
			}
		}
		prm := templateParameter{p, typ, o}
		if checkParameterValue(ps, prm) {
			out = append(out, prm)
		}
	}
	return out, len(list)
}

// checkParameterValue checks the value a parameter's type names and
// reports whether there is one to check further.
func checkParameterValue(ps *message.Problems, prm templateParameter) bool {
	at := prm.path + "." + prm.typ
	raw := prm.obj[prm.typ]
	switch prm.typ {
	case "text", "payload", "coupon_code":
		s, ok := nonBlank(raw)
		if !ok {
			why := map[string]string{
				"text":        "the variable's value",
				"payload":     "the string WhatsApp sends back when the button is tapped",
				"coupon_code": "the code the button copies",
			}[prm.typ]
			ps.Add(at, "is required: %s", why)
			return false
		}
		switch {
		case prm.typ == "coupon_code":
			ps.MaxLen(at, s, couponCodeLimit)
		case prm.typ == "text" && strings.ContainsAny(s, "\n\t"):
			ps.Add(at, "holds a newline or a tab, which WhatsApp refuses in a variable")
		case prm.typ == "text" && strings.Contains(s, strings.Repeat(" ", maxSpaces+1)):
			ps.Add(at, "holds more than %d spaces in a row, which WhatsApp refuses in a variable", maxSpaces)
		}
		return true
	case "ttl_minutes", compOffer:
		if prm.typ == compOffer {
			o := object(ps, at, raw)
			if o == nil {
				return false
			}
			unknownKeys(ps, at, o, "expiration_time_ms")
			at, raw = at+".expiration_time_ms", o["expiration_time_ms"]
		}
		n, ok := integer(raw)
		switch {
		case !ok || n <= 0:
			ps.Add(at, "is required: a whole number above 0")
		case prm.typ == "ttl_minutes" && n > voiceCallTTLLimit:
			ps.Add(at, "%d minutes, the limit is %d (30 days)", n, voiceCallTTLLimit)
		}
		return true
	}
	o := object(ps, at, raw)
	if o == nil {
		return false
	}
	switch prm.typ {
	case "currency":
		unknownKeys(ps, at, o, "fallback_value", "code", "amount_1000")
		requiredString(ps, at, o, "fallback_value")
		if code, _ := str(o["code"]); len(code) != 3 || strings.ToUpper(code) != code {
			ps.Add(at+".code", "must be an ISO 4217 currency code, e.g. GBP")
		}
		if _, ok := integer(o["amount_1000"]); !ok {
			ps.Add(at+".amount_1000", "is required: the amount times 1000, a whole number")
		}
	case "date_time":
		// Meta renders only fallback_value; the older calendar fields
		// are ignored, so they are let through.
		requiredString(ps, at, o, "fallback_value")
	case "image", "video", "document":
		// caption belongs to Meta's media object; a template's header
		// does not show it, but Meta does not describe refusing it.
		keys := []string{"id", "link", "caption"}
		if prm.typ == "document" {
			keys = append(keys, "filename")
		}
		unknownKeys(ps, at, o, keys...)
		id, link := present(o, "id"), present(o, "link")
		switch {
		case id && link:
			ps.Add(at, "id and link are both set; give one")
		case !id && !link:
			ps.Add(at, "needs id (a WhatsApp media id) or link (an http or https URL)")
		case link:
			s, _ := str(o["link"])
			checkURL(ps, at+".link", s)
		default:
			requiredString(ps, at, o, "id")
		}
	case "location":
		unknownKeys(ps, at, o, "latitude", "longitude", "name", "address")
		coordinate(ps, at, o, "latitude", 90)
		coordinate(ps, at, o, "longitude", 180)
		for _, k := range []string{"name", "address"} {
			var s string
			if present(o, k) && json.Unmarshal(o[k], &s) != nil {
				ps.Add(at+"."+k, "must be a string")
			}
		}
	case "product":
		unknownKeys(ps, at, o, "product_retailer_id", "catalog_id")
		requiredString(ps, at, o, "product_retailer_id")
		requiredString(ps, at, o, "catalog_id")
	}
	return true
}

// checkAction checks an action parameter by its button's sub_type.
func checkAction(ps *message.Problems, prm templateParameter, sub string) {
	at := prm.path + ".action"
	var o jsonObject
	json.Unmarshal(prm.obj["action"], &o)
	switch sub {
	case "flow":
		unknownKeys(ps, at, o, "flow_token", "flow_action_data")
		if present(o, "flow_token") {
			if _, ok := nonBlank(o["flow_token"]); !ok {
				ps.Add(at+".flow_token", "must be a non-empty string")
			}
		}
		if present(o, "flow_action_data") {
			var data map[string]json.RawMessage
			if json.Unmarshal(o["flow_action_data"], &data) != nil || data == nil {
				ps.Add(at+".flow_action_data", "must be an object: the data of the flow's first screen")
			}
		}
	case "catalog":
		unknownKeys(ps, at, o, "thumbnail_product_retailer_id")
		if present(o, "thumbnail_product_retailer_id") {
			requiredString(ps, at, o, "thumbnail_product_retailer_id")
		}
	case "mpm":
		unknownKeys(ps, at, o, "thumbnail_product_retailer_id", "sections")
		requiredString(ps, at, o, "thumbnail_product_retailer_id")
		checkMPMSections(ps, at+".sections", o["sections"])
	case "order_details":
		// The order itself (reference, amounts, payment settings) is
		// read by Meta's payments rules, which differ by country; it is
		// passed as given.
		unknownKeys(ps, at, o, "order_details")
		var order map[string]json.RawMessage
		if json.Unmarshal(o["order_details"], &order) != nil || order == nil {
			ps.Add(at+".order_details", "is required: an object, the order the customer is asked to pay")
		}
	}
}

// checkMPMSections checks a multi-product button's sections: 1 to 10,
// titled (up to 24 characters, required when there are several), with at
// least one product each and at most 30 in all.
func checkMPMSections(ps *message.Problems, path string, raw json.RawMessage) {
	if raw == nil || string(raw) == "null" {
		ps.Add(path, "is required: 1 to %d sections of products", sectionsLimit)
		return
	}
	sections, ok := objects(ps, path, raw, "section")
	if !ok {
		return
	}
	if n := len(sections); n == 0 || n > sectionsLimit {
		ps.Add(path, "%d sections, the limit is 1 to %d", n, sectionsLimit)
	}
	total := 0
	for i, s := range sections {
		if s == nil {
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		unknownKeys(ps, p, s, "title", "product_items")
		title, _ := str(s["title"])
		if _, ok := nonBlank(s["title"]); !ok && len(sections) > 1 {
			ps.Add(p+".title", "is required when there are several sections")
		}
		ps.MaxLen(p+".title", title, sectionTitleLimit)
		items, ok := objects(ps, p+".product_items", s["product_items"], "product")
		if !ok {
			continue
		}
		if len(items) == 0 {
			ps.Add(p+".product_items", "is required: a section needs at least one product")
		}
		for j, it := range items {
			if it != nil {
				ip := fmt.Sprintf("%s.product_items[%d]", p, j)
				unknownKeys(ps, ip, it, "product_retailer_id")
				requiredString(ps, ip, it, "product_retailer_id")
			}
		}
		total += len(items)
	}
	if total > productsLimit {
		ps.Add(path, "%d products in total, the limit is %d", total, productsLimit)
	}
}

// checkText checks a text parameter's length and reports whether it is
// over the limit.
func checkText(ps *message.Problems, prm templateParameter, limit int) bool {
	if n := textLen(prm); n > limit {
		ps.Add(prm.path+".text", "%d characters, the limit is %d", n, limit)
		return true
	}
	return false
}

// textLen is the length of a text parameter's value, 0 for other types:
// currency and date_time are rendered by WhatsApp, their length unknown
// beforehand.
func textLen(prm templateParameter) int {
	if prm.typ != "text" {
		return 0
	}
	s, _ := str(prm.obj["text"])
	return message.Len(s)
}

// hasCarousel reports whether comps hold a carousel component.
func hasCarousel(comps []jsonObject) bool {
	for _, c := range comps {
		if typ, _ := enum(c["type"]); typ == compCarousel {
			return true
		}
	}
	return false
}

// nonBlank reads raw as a string with more than spaces in it.
func nonBlank(raw json.RawMessage) (string, bool) {
	s, ok := str(raw)
	return s, ok && strings.TrimSpace(s) != ""
}

// object reads raw, at path, as the object a parameter's type names.
func object(ps *message.Problems, path string, raw json.RawMessage) jsonObject {
	var o jsonObject
	if json.Unmarshal(raw, &o) != nil || o == nil {
		ps.Add(path, "is required: an object")
		return nil
	}
	return o
}

func unknownKeys(ps *message.Problems, path string, o jsonObject, allowed ...string) {
	for _, k := range o.sortedKeys() {
		if !slices.Contains(allowed, k) {
			ps.Add(path+"."+k, "not a field here: %s", strings.Join(allowed, ", "))
		}
	}
}

func requiredString(ps *message.Problems, path string, o jsonObject, key string) {
	if _, ok := nonBlank(o[key]); !ok {
		ps.Add(path+"."+key, "is required: a non-empty string")
	}
}

// coordinate checks a latitude or longitude, a number or a string holding
// one (Meta's location header example quotes them), within ±limit.
func coordinate(ps *message.Problems, path string, o jsonObject, key string, limit float64) {
	raw := o[key]
	var n json.Number
	if s, ok := str(raw); ok {
		n = json.Number(s)
	} else if json.Unmarshal(raw, &n) != nil {
		n = ""
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > limit {
		ps.Add(path+"."+key, "must be degrees from -%g to %g, as a number or a string", limit, limit)
	}
}

// integer reads raw as a whole JSON number (not a string holding one).
func integer(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// position reads a button's index or a card's card_index: 0 to 9, as a
// string of digits or a whole number.
func position(raw json.RawMessage) (int, bool) {
	i, ok := integer(raw)
	if !ok {
		s, isString := str(raw)
		if !isString || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, false
		}
		i = int64(n)
	}
	return int(i), i >= 0 && i <= maxButtonIndex
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
