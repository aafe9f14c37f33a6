package apple

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Limits Apple documents (or, where it documents none, parley's own; see
// CHANNEL.md).
const (
	MinQuickReply = 2
	MaxQuickReply = 5
	// MaxCustomURL is the most bytes of a custom message's URL.
	MaxCustomURL = 64 << 10
	// MaxListItems is the most items of a list picker, in all its
	// sections: parley's own cap, as Apple publishes none (a picker is a
	// screen of a phone; a longer one is a catalogue, better sent as a
	// link).
	MaxListItems = 100
	// MaxBody is the largest request parley sends to the gateway. Apple
	// documents no limit for outbound interactive messages (above 10 KB it
	// may answer with a reusable data reference).
	MaxBody = 8 << 20
)

// Supports reports whether the apple channel can send messages of the public
// type typ.
func Supports(typ string) bool {
	switch typ {
	case message.TypeText, message.TypeRichLink, message.TypeList, message.TypeButtons,
		message.TypeTimePicker, message.TypeCustom, message.TypeAuth, message.TypeApplePay, message.TypeTyping:
		return true
	}
	return message.MediaType(typ)
}

// Bubble styles.
var bubbleStyles = map[string]bool{"": true, "icon": true, "small": true, "large": true}

// Payment endpoint keys of data.payment.endpoints, in Apple's order, and the
// path of parley's own callback for each under PayBaseURL.
var payEndpoints = []struct{ key, name string }{
	{"paymentGatewayUrl", "paymentGateway"},
	{"fallbackUrl", "fallback"},
	{"orderTrackingUrl", "orderTracking"},
	{"paymentMethodUpdateUrl", "paymentMethodUpdate"},
	{"shippingContactUpdateUrl", "shippingContactUpdate"},
	{"shippingMethodUpdateUrl", "shippingMethodUpdate"},
}

// isTeamID reports whether s is an Apple team id: 10 upper-case ASCII
// letters and digits.
func isTeamID(s string) bool {
	return ascii(s, 10, 10, func(c byte) bool { return 'A' <= c && c <= 'Z' || isDigit(c) })
}

// isAmount reports whether s is a decimal amount as Apple writes it: an
// optional minus, digits, and optionally a point and more digits ("10.00",
// "-5"; not "1.", ".5" or "1e3").
func isAmount(s string) bool {
	whole, frac, point := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	return ascii(whole, 1, len(whole), isDigit) && (!point || ascii(frac, 1, len(frac), isDigit))
}

// isCountryCode and isCurrencyCode report whether s has the shape of an
// ISO 3166 country code (two ASCII letters) or an ISO 4217 currency code
// (three).
func isCountryCode(s string) bool  { return ascii(s, 2, 2, isLetter) }
func isCurrencyCode(s string) bool { return ascii(s, 3, 3, isLetter) }

// ascii reports whether s holds from min to max bytes, each of them in.
func ascii(s string, min, max int, in func(byte) bool) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := range len(s) {
		if !in(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// Validate returns what is wrong with m for Apple, every field at fault
// named. Images given by bytes are checked here; images given by URL are
// checked the same way when Send fetches them.
func Validate(m message.Message) message.Problems {
	if message.MediaType(m.Type) {
		return validateMedia(m)
	}
	var ps message.Problems
	validateEnvelope(&ps, m)
	if m.Type == message.TypeTyping {
		validateTyping(&ps, m)
		return ps
	}
	if m.State != "" {
		ps.Add("message.state", "not used by %s messages: only typing indicators have a state", m.Type)
	}
	if m.Type != message.TypeText {
		validateUIStrings(&ps, m)
	}
	validateAttachments(&ps, m)
	switch m.Type {
	case message.TypeText:
		if len(m.Attachments) == 0 {
			ps.Required("message.text", m.Text)
		}
		if strings.Contains(m.Text, placeholder) {
			ps.Add("message.text", "contains U+FFFC, which Apple reads as the place of an attachment")
		}
		return ps
	case message.TypeRichLink:
		validateRichLink(&ps, m)
		return ps
	case message.TypeList:
		validateList(&ps, m)
	case message.TypeButtons:
		validateButtons(&ps, m)
	case message.TypeTimePicker:
		validateTimePicker(&ps, m)
	case message.TypeCustom:
		validateCustom(&ps, m)
		return ps
	case message.TypeAuth:
		validateAuth(&ps, m)
	case message.TypeApplePay:
		validateApplePay(&ps, m)
	default:
		ps.Add("message.type", "%q cannot be sent on the apple channel", m.Type)
		return ps
	}
	validateBubbles(&ps, m, imageIDs(&ps, m.Images))
	return ps
}

// received returns the receivedMessage bubble of an interactive message:
// m.Bubble, with its title defaulting to the type's own title (a list's
// body, others' title).
func received(m message.Message) message.Bubble {
	var b message.Bubble
	if m.Bubble != nil {
		b = *m.Bubble
	}
	if b.Title == "" {
		if m.Type == message.TypeList {
			b.Title = m.Body
		} else {
			b.Title = m.Title
		}
	}
	return b
}

// imageIDs checks m.Images and returns their ids.
func imageIDs(ps *message.Problems, images []message.Image) map[string]bool {
	ids := make(map[string]bool, len(images))
	for i, img := range images {
		field := fmt.Sprintf("message.images[%d]", i)
		switch {
		case img.ID == "":
			ps.Add(field+".id", "is required: bubbles and items name images by id")
		case ids[img.ID]:
			ps.Add(field+".id", "%q is used by another image", img.ID)
		}
		ids[img.ID] = true
		checkImage(ps, field, img, interactiveImage)
	}
	return ids
}

// checkImageRef records a problem when id names no image of the message.
func checkImageRef(ps *message.Problems, field, id string, ids map[string]bool) {
	if id != "" && !ids[id] {
		ps.Add(field, "%q names no image in message.images", id)
	}
}

func validateBubbles(ps *message.Problems, m message.Message, ids map[string]bool) {
	// A quick reply shows no bubble unless it is given one.
	needsTitle := m.Type != message.TypeButtons || m.Bubble != nil
	if needsTitle && received(m).Title == "" {
		alt := "message.title"
		if m.Type == message.TypeList {
			alt = "message.body"
		}
		ps.Add("message.bubble.title", "is required (or %s): it is the bubble Apple shows", alt)
	}
	for _, b := range []struct {
		field  string
		bubble *message.Bubble
	}{{"message.bubble", m.Bubble}, {"message.replyBubble", m.ReplyBubble}} {
		if b.bubble == nil {
			continue
		}
		if !bubbleStyles[b.bubble.Style] {
			ps.Add(b.field+".style", "%q is not a bubble style: icon, small or large", b.bubble.Style)
		}
		checkImageRef(ps, b.field+".imageId", b.bubble.ImageID, ids)
	}
}

func validateRichLink(ps *message.Problems, m message.Message) {
	ps.Required("message.url", m.URL)
	if m.URL != "" {
		checkURL(ps, "message.url", m.URL)
	}
	ps.Required("message.title", m.Title)
	switch {
	case m.Image == nil && m.VideoURL == "":
		ps.Add("message.image", "is required on apple, or message.videoUrl: Apple's rich link needs an asset")
	case m.Image != nil:
		checkImage(ps, "message.image", *m.Image, richLinkImage)
	}
	if m.VideoURL != "" {
		checkURL(ps, "message.videoUrl", m.VideoURL)
	}
	if len(m.Images) > 0 {
		ps.Add("message.images", "a rich link carries one image, in message.image")
	}
}

func validateList(ps *message.Problems, m message.Message) {
	if len(m.Sections) == 0 {
		ps.Add("message.sections", "is required: at least one section with items")
	}
	items := 0
	for _, s := range m.Sections {
		items += len(s.Items)
	}
	if items > MaxListItems {
		// Each item would be checked in vain, and named in as many problems.
		ps.Add("message.sections", "%d items in total, the limit is %d", items, MaxListItems)
		return
	}
	ids := imageIDsOf(m.Images)
	seen := map[string]string{}
	for i, s := range m.Sections {
		field := fmt.Sprintf("message.sections[%d]", i)
		if len(s.Items) == 0 {
			ps.Add(field+".items", "is required: at least one item")
		}
		if len(s.ProductIDs) > 0 {
			ps.Add(field+".productIds", "a list has items, not products")
		}
		for j, it := range s.Items {
			f := fmt.Sprintf("%s.items[%d]", field, j)
			checkOption(ps, f, it, seen)
			checkImageRef(ps, f+".imageId", it.ImageID, ids)
		}
	}
}

// imageIDsOf returns the ids of images without checking them.
func imageIDsOf(images []message.Image) map[string]bool {
	ids := make(map[string]bool, len(images))
	for _, img := range images {
		ids[img.ID] = true
	}
	return ids
}

// checkOption checks an item or button; seen maps ids to the field that
// used them first.
func checkOption(ps *message.Problems, field string, o message.Option, seen map[string]string) {
	ps.Required(field+".id", o.ID)
	ps.Required(field+".title", o.Title)
	if o.ID == "" {
		return
	}
	if first, dup := seen[o.ID]; dup {
		ps.Add(field+".id", "%q is already the id of %s", o.ID, first)
		return
	}
	seen[o.ID] = field
}

func validateButtons(ps *message.Problems, m message.Message) {
	ps.Required("message.body", m.Body)
	if n := len(m.Buttons); n < MinQuickReply || n > MaxQuickReply {
		ps.Add("message.buttons", "%d buttons, Apple's quick reply takes %d to %d", n, MinQuickReply, MaxQuickReply)
	}
	seen := map[string]string{}
	for i, b := range m.Buttons {
		checkOption(ps, fmt.Sprintf("message.buttons[%d]", i), b, seen)
	}
}

// validateTimePicker checks a time picker. Its title may be empty: Apple's
// time picker sample sends an event titled "" (the bubble still needs a
// title: bubble.title).
func validateTimePicker(ps *message.Problems, m message.Message) {
	if m.TimezoneOffset != nil && (*m.TimezoneOffset < -12*60 || *m.TimezoneOffset > 14*60) {
		ps.Add("message.timezoneOffset", "%d minutes is not an offset from UTC (-720 to 840)", *m.TimezoneOffset)
	}
	if l := m.Location; l != nil {
		if l.Latitude < -90 || l.Latitude > 90 {
			ps.Add("message.location.latitude", "%v is not a latitude (-90 to 90)", l.Latitude)
		}
		if l.Longitude < -180 || l.Longitude > 180 {
			ps.Add("message.location.longitude", "%v is not a longitude (-180 to 180)", l.Longitude)
		}
		if l.Radius < 0 {
			ps.Add("message.location.radius", "%v is negative", l.Radius)
		}
	}
	if len(m.Slots) == 0 {
		ps.Add("message.slots", "is required: at least one slot")
	}
	seen := map[string]int{}
	for i, s := range m.Slots {
		field := fmt.Sprintf("message.slots[%d]", i)
		switch first, dup := seen[s.ID]; {
		case s.ID == "":
			ps.Add(field+".id", "is required")
		case dup:
			ps.Add(field+".id", "%q is already the id of message.slots[%d]", s.ID, first)
		default:
			seen[s.ID] = i
		}
		switch {
		case s.Start.IsZero():
			ps.Add(field+".start", "is required")
		case s.Start.Second() != 0 || s.Start.Nanosecond() != 0:
			ps.Add(field+".start", "%s has seconds: Apple's startTime counts whole minutes", s.Start.Format(time.RFC3339Nano))
		}
		if s.Duration <= 0 {
			ps.Add(field+".duration", "%d seconds, it must be positive", s.Duration)
		}
	}
}

func validateCustom(ps *message.Problems, m message.Message) {
	switch {
	case m.TeamID == "":
		ps.Add("message.teamId", "is required")
	case !isTeamID(m.TeamID):
		ps.Add("message.teamId", "%q is not an Apple team id: 10 upper-case letters and digits", m.TeamID)
	}
	ps.Required("message.bundleId", m.BundleID)
	if strings.Contains(m.BundleID, ":") {
		ps.Add("message.bundleId", "%q: a bundle id has no colon", m.BundleID)
	}
	ps.Required("message.url", m.URL)
	if n := len(m.URL); n > MaxCustomURL {
		ps.Add("message.url", "%d bytes, the limit is %d", n, MaxCustomURL)
	}
	if m.AppID <= 0 {
		ps.Add("message.appId", "is required: the App Store id of the iMessage app")
	}
	ps.Required("message.appName", m.AppName)
	if m.Image == nil {
		ps.Add("message.image", "is required: the app icon shown when the app is not installed")
	} else {
		checkImage(ps, "message.image", *m.Image, interactiveImage)
	}
	if len(m.Data) > 0 {
		ps.Add("message.data", "Apple refuses data in an iMessage app message; put it in message.url")
	}
	if len(m.Images) > 0 {
		ps.Add("message.images", "an iMessage app message carries no images")
	}
	if received(m).Title == "" {
		ps.Add("message.bubble.title", "is required (or message.title): it is the bubble Apple shows")
	}
	for _, b := range []struct {
		field  string
		bubble *message.Bubble
	}{{"message.bubble", m.Bubble}, {"message.replyBubble", m.ReplyBubble}} {
		if b.bubble == nil {
			continue
		}
		if !bubbleStyles[b.bubble.Style] {
			ps.Add(b.field+".style", "%q is not a bubble style: icon, small or large", b.bubble.Style)
		}
		if b.bubble.ImageID != "" {
			ps.Add(b.field+".imageId", "an iMessage app message carries no images")
		}
	}
}

func validateAuth(ps *message.Problems, m message.Message) {
	o := m.OAuth
	if o == nil {
		ps.Add("message.oauth", "is required")
		return
	}
	switch o.ResponseType {
	case "code", "token":
	case "":
		ps.Add("message.oauth.responseType", `is required: "code" or "token"`)
	default:
		ps.Add("message.oauth.responseType", `%q is not "code" or "token"`, o.ResponseType)
	}
	if len(o.Scope) == 0 {
		ps.Add("message.oauth.scope", "is required: at least one scope")
	}
	for i, s := range o.Scope {
		ps.Required(fmt.Sprintf("message.oauth.scope[%d]", i), s)
	}
	ps.Required("message.oauth.state", o.State)
}

// paymentRequest is what Validate reads of an Apple Pay paymentRequest;
// parley passes the request through as given.
type paymentRequest struct {
	MerchantName *string         `json:"merchantName"`
	CountryCode  *string         `json:"countryCode"`
	CurrencyCode *string         `json:"currencyCode"`
	Total        *paymentItem    `json:"total"`
	LineItems    []paymentItem   `json:"lineItems"`
	ApplePay     *applePayParams `json:"applePay"`
}

type paymentItem struct {
	Label  *string `json:"label"`
	Amount *string `json:"amount"`
}

type applePayParams struct {
	MerchantIdentifier   *string  `json:"merchantIdentifier"`
	SupportedNetworks    []string `json:"supportedNetworks"`
	MerchantCapabilities []string `json:"merchantCapabilities"`
}

func validateApplePay(ps *message.Problems, m message.Message) {
	const f = "message.payment"
	var pr paymentRequest
	switch {
	case len(m.Payment) == 0:
		ps.Add(f, "is required: Apple's paymentRequest")
	case !isJSONObject(m.Payment):
		ps.Add(f, "must be a JSON object: Apple's paymentRequest")
	default:
		if err := json.Unmarshal(m.Payment, &pr); err != nil {
			ps.Add(f, "%s", describeJSONError(err))
			return
		}
		requiredString(ps, f+".merchantName", pr.MerchantName, nil, "")
		requiredString(ps, f+".countryCode", pr.CountryCode, isCountryCode, "an ISO 3166 two-letter country code")
		requiredString(ps, f+".currencyCode", pr.CurrencyCode, isCurrencyCode, "an ISO 4217 three-letter currency code")
		if pr.Total == nil {
			ps.Add(f+".total", "is required")
		} else {
			checkPaymentItem(ps, f+".total", *pr.Total)
		}
		for i, it := range pr.LineItems {
			checkPaymentItem(ps, fmt.Sprintf("%s.lineItems[%d]", f, i), it)
		}
		if pr.ApplePay == nil {
			ps.Add(f+".applePay", "is required: merchantIdentifier, supportedNetworks, merchantCapabilities")
		} else {
			requiredString(ps, f+".applePay.merchantIdentifier", pr.ApplePay.MerchantIdentifier, nil, "")
			if len(pr.ApplePay.SupportedNetworks) == 0 {
				ps.Add(f+".applePay.supportedNetworks", "is required: at least one network")
			}
			if len(pr.ApplePay.MerchantCapabilities) == 0 {
				ps.Add(f+".applePay.merchantCapabilities", "is required: at least one capability")
			}
		}
	}
	known := map[string]bool{}
	for _, e := range payEndpoints {
		known[e.key] = true
	}
	for _, key := range sortedKeys(m.Endpoints) {
		field := "message.endpoints." + key
		if !known[key] {
			ps.Add(field, "is not an Apple Pay endpoint: paymentGatewayUrl, fallbackUrl, orderTrackingUrl, paymentMethodUpdateUrl, shippingContactUpdateUrl or shippingMethodUpdateUrl")
			continue
		}
		checkURL(ps, field, m.Endpoints[key])
	}
}

func checkPaymentItem(ps *message.Problems, field string, it paymentItem) {
	requiredString(ps, field+".label", it.Label, nil, "")
	requiredString(ps, field+".amount", it.Amount, isAmount, `a decimal amount written as a string, e.g. "10.00"`)
}

// requiredString records a problem when s is absent or empty, or is not
// valid (described by want).
func requiredString(ps *message.Problems, field string, s *string, valid func(string) bool, want string) {
	switch {
	case s == nil || *s == "":
		ps.Add(field, "is required")
	case valid != nil && !valid(*s):
		ps.Add(field, "%q is not %s", *s, want)
	}
}

// isJSONObject reports whether b holds a JSON object.
func isJSONObject(b json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// MaxUIString is the most characters (code points) parley lets any string
// Apple shows in an interactive message's interface hold: bubble titles and
// subtitles, section and item titles and subtitles, button and slot labels,
// event and rich link titles. Apple publishes no number — the device cuts
// long strings to one or two lines — so this is parley's rule, generous for
// anything a customer can read there, and it keeps payloads sane.
const MaxUIString = 200

// validateUIStrings holds every interface string of m to MaxUIString.
func validateUIStrings(ps *message.Problems, m message.Message) {
	check := func(field, value string) { ps.MaxLen(field, value, MaxUIString) }
	check("message.title", m.Title)
	for name, b := range map[string]*message.Bubble{"message.bubble": m.Bubble, "message.replyBubble": m.ReplyBubble} {
		if b != nil {
			check(name+".title", b.Title)
			check(name+".subtitle", b.Subtitle)
		}
	}
	for i, sec := range m.Sections {
		check(fmt.Sprintf("message.sections[%d].title", i), sec.Title)
		for j, it := range sec.Items {
			check(fmt.Sprintf("message.sections[%d].items[%d].title", i, j), it.Title)
			check(fmt.Sprintf("message.sections[%d].items[%d].description", i, j), it.Description)
		}
	}
	for i, b := range m.Buttons {
		check(fmt.Sprintf("message.buttons[%d].title", i), b.Title)
	}
	if m.Location != nil {
		check("message.location.title", m.Location.Title)
	}
	if m.Type == message.TypeButtons {
		check("message.body", m.Body)
	}
}

// Limits of the fields every Apple message may carry.
const (
	// MaxAgent is the most bytes of message.agent, Apple's msp-agent
	// header. Apple logs its first 64 characters and documents no limit;
	// this is parley's cap for a header.
	MaxAgent = 1024
)

// isLocale reports whether s is a locale as Apple writes it (en_US), or
// with hyphens: a language of two or three ASCII letters, then any number
// of parts of two to eight ASCII letters and digits, each after an
// underscore or a hyphen.
func isLocale(s string) bool {
	parts := strings.Split(strings.ReplaceAll(s, "-", "_"), "_")
	if !ascii(parts[0], 2, 3, isLetter) {
		return false
	}
	for _, p := range parts[1:] {
		if !ascii(p, 2, 8, func(c byte) bool { return isLetter(c) || isDigit(c) }) {
			return false
		}
	}
	return true
}

// validateEnvelope checks what any Apple message may carry: its locale,
// agent and session.
func validateEnvelope(ps *message.Problems, m message.Message) {
	if m.Locale != "" && !isLocale(m.Locale) {
		ps.Add("message.locale", "%q is not a locale such as en_US", m.Locale)
	}
	switch {
	case len(m.Agent) > MaxAgent:
		ps.Add("message.agent", "%d bytes, the limit is %d", len(m.Agent), MaxAgent)
	case strings.ContainsFunc(m.Agent, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		ps.Add("message.agent", "contains a control character: it is sent as the msp-agent header")
	}
	if m.SessionIdentifier != "" && !message.Interactive(m.Type) {
		ps.Add("message.sessionIdentifier", "not used by %s messages: only interactive messages have a session", m.Type)
	}
}

// validateTyping checks a typing indicator: a state, and nothing of a
// message's content.
func validateTyping(ps *message.Problems, m message.Message) {
	switch m.State {
	case "":
		ps.Add("message.state", `is required: "start" or "end"`)
	case message.TypingStart, message.TypingEnd:
	default:
		ps.Add("message.state", `%q is not a typing state: "start" or "end"`, m.State)
	}
	content := m
	content.Type, content.State, content.Locale, content.Automated, content.Agent = "", "", "", false, ""
	if !reflect.ValueOf(content).IsZero() {
		ps.Add("message", "a typing indicator carries only state, and optionally locale, automated and agent")
	}
}
