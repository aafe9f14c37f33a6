package applesim

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Interactive kinds, the Interactive field of a Message: what the gateway
// understood an interactive message to be.
const (
	KindListPicker = "listPicker"
	KindTimePicker = "timePicker"
	KindQuickReply = "quickReply"
	KindAuth       = "authenticate"
	KindApplePay   = "applePay"
	KindForm       = "form"
	KindCustom     = "custom"
	// KindDataRef is an interactive message sent by reference
	// (interactiveDataRef), whose content the gateway does not see.
	KindDataRef = "dataRef"
)

// AppleBID is the bid of Apple's built-in interactive messages.
const AppleBID = pluginPrefix + ":" + appleTeam + ":" + appleBundle

const (
	pluginPrefix = "com.apple.messages.MSMessageExtensionBalloonPlugin"
	appleTeam    = "0000000000"
	appleBundle  = "com.apple.icloud.apps.messages.business.extension"

	// maxCustomURL is the limit of a custom message's URL, 64 KB.
	maxCustomURL = 64 << 10
	// maxRichLinkImage is the limit of a rich link image, 200 kB.
	maxRichLinkImage = 200_000
	// slotLayout is the startTime format of Apple's time picker samples.
	slotLayout = "2006-01-02T15:04-0700"

	// thirdPartyData is the gateway's answer, verbatim, to a custom
	// message that carries data.
	thirdPartyData = "Third party interactive data disallows use of 'data'"
)

// features maps each key of a built-in message's data to its kind.
var features = map[string]string{
	"listPicker":   KindListPicker,
	"event":        KindTimePicker,
	"quick-reply":  KindQuickReply,
	"authenticate": KindAuth,
	"payment":      KindApplePay,
	"dynamic":      KindForm,
}

var (
	teamID   = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	bundleID = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
)

// object is a JSON object whose members are decoded on demand.
type object map[string]json.RawMessage

// decodeObject decodes raw as a JSON object; ok is false for anything else.
func decodeObject(raw json.RawMessage) (o object, ok bool) {
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return nil, false
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, false
	}
	return o, true
}

// str returns the string member key, "" when it is absent or not a string.
func (o object) str(key string) string {
	var s string
	if json.Unmarshal(o[key], &s) != nil {
		return ""
	}
	return s
}

// obj returns the object member key; ok is false when it is absent or not
// an object.
func (o object) obj(key string) (object, bool) {
	raw, present := o[key]
	if !present {
		return nil, false
	}
	return decodeObject(raw)
}

// objects returns the member key as an array of objects; ok is false when
// it is absent, not an array, or holds something other than objects.
func (o object) objects(key string) ([]object, bool) {
	var raws []json.RawMessage
	if json.Unmarshal(o[key], &raws) != nil || raws == nil {
		return nil, false
	}
	out := make([]object, len(raws))
	for i, raw := range raws {
		var ok bool
		if out[i], ok = decodeObject(raw); !ok {
			return nil, false
		}
	}
	return out, true
}

// nonEmpty reports whether the member key is a non-empty array.
func (o object) nonEmpty(key string) bool {
	var list []json.RawMessage
	return json.Unmarshal(o[key], &list) == nil && len(list) > 0
}

// checkInteractive returns the kind of an interactiveData the gateway
// accepts, or the problem that makes it refuse it.
func checkInteractive(raw json.RawMessage) (kind, problem string) {
	idata, ok := decodeObject(raw)
	if !ok {
		return "", "interactiveData must be an object"
	}
	bid := idata.str("bid")
	if bid == "" {
		return "", "interactiveData.bid is required"
	}
	team, bundle, ok := splitBID(bid)
	if !ok {
		return "", fmt.Sprintf("interactiveData.bid %q: want %s:<team id>:<bundle id>", bid, pluginPrefix)
	}
	if team == appleTeam && bundle != appleBundle {
		return "", fmt.Sprintf("interactiveData.bid %q: team %s has only the extension %s", bid, appleTeam, appleBundle)
	}
	if team != appleTeam {
		if _, present := idata["data"]; present {
			return "", thirdPartyData
		}
		if u, present := idata["URL"]; present {
			var s string
			if json.Unmarshal(u, &s) != nil {
				return "", "interactiveData.URL must be a string"
			}
			if len(s) > maxCustomURL {
				return "", fmt.Sprintf("interactiveData.URL: %d bytes, the limit is %d", len(s), maxCustomURL)
			}
		}
		if p := checkImageRefs(raw, nil); p != "" {
			return "", p
		}
		return KindCustom, ""
	}
	data, ok := idata.obj("data")
	if !ok {
		return "", "interactiveData.data is required for " + AppleBID
	}
	if data.str("version") == "" && data.str("mspVersion") == "" {
		return "", "interactiveData.data.version is required"
	}
	if data.str("requestIdentifier") == "" {
		return "", "interactiveData.data.requestIdentifier is required"
	}
	var found []string
	for key := range data {
		if _, ok := features[key]; ok {
			found = append(found, key)
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		return "", "interactiveData.data has no feature: want one of listPicker, event, quick-reply, authenticate, payment, dynamic"
	case 1:
	default:
		return "", fmt.Sprintf("interactiveData.data has %d features (%s): want exactly one", len(found), strings.Join(found, ", "))
	}
	images, p := checkImages(data)
	if p != "" {
		return "", p
	}
	if p := checkImageRefs(raw, images); p != "" {
		return "", p
	}
	key := found[0]
	path := "interactiveData.data." + key
	feature, ok := data.obj(key)
	if !ok {
		return "", path + " must be an object"
	}
	switch kind = features[key]; kind {
	case KindListPicker:
		p = checkListPicker(path, feature)
	case KindTimePicker:
		p = checkEvent(path, feature)
	case KindQuickReply:
		p = checkQuickReply(path, feature)
	case KindAuth:
		p = checkAuth(path, feature)
	case KindApplePay:
		p = checkPayment(path, feature)
	}
	if p != "" {
		return "", p
	}
	return kind, ""
}

// splitBID splits a bid into its team and bundle ids.
func splitBID(bid string) (team, bundle string, ok bool) {
	rest, ok := strings.CutPrefix(bid, pluginPrefix+":")
	if !ok {
		return "", "", false
	}
	team, bundle, ok = strings.Cut(rest, ":")
	if !ok || !teamID.MatchString(team) || !bundleID.MatchString(bundle) {
		return "", "", false
	}
	return team, bundle, true
}

// checkImages returns the identifiers of data.images.
func checkImages(data object) (map[string]bool, string) {
	ids := map[string]bool{}
	if _, present := data["images"]; !present {
		return ids, ""
	}
	images, ok := data.objects("images")
	if !ok {
		return nil, "interactiveData.data.images must be an array of objects"
	}
	for i, img := range images {
		path := fmt.Sprintf("interactiveData.data.images[%d]", i)
		id := img.str("identifier")
		switch {
		case id == "":
			return nil, path + ".identifier is required"
		case ids[id]:
			return nil, fmt.Sprintf("%s.identifier %q is not unique", path, id)
		}
		ids[id] = true
		b64 := img.str("data")
		if b64 == "" {
			return nil, path + ".data is required"
		}
		if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
			return nil, path + ".data is not Base64"
		}
	}
	return ids, ""
}

// checkImageRefs checks that every imageIdentifier in raw names one of
// images.
func checkImageRefs(raw json.RawMessage, images map[string]bool) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "interactiveData is not valid JSON"
	}
	return walkImageRefs("interactiveData", v, images)
}

func walkImageRefs(path string, v any, images map[string]bool) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "imageIdentifier" {
				id, _ := v[k].(string)
				if !images[id] {
					return fmt.Sprintf("%s.imageIdentifier %q names no image of interactiveData.data.images", path, id)
				}
				continue
			}
			if p := walkImageRefs(path+"."+k, v[k], images); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range v {
			if p := walkImageRefs(fmt.Sprintf("%s[%d]", path, i), e, images); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkIdentified checks that list[key] is a non-empty array of objects with
// unique non-empty identifiers and returns it.
func checkIdentified(path string, o object, key string, seen map[string]bool) ([]object, string) {
	list, ok := o.objects(key)
	if !ok || len(list) == 0 {
		return nil, path + "." + key + " must be a non-empty array of objects"
	}
	for i, e := range list {
		id := e.str("identifier")
		switch {
		case id == "":
			return nil, fmt.Sprintf("%s.%s[%d].identifier is required", path, key, i)
		case seen[id]:
			return nil, fmt.Sprintf("%s.%s[%d].identifier %q is not unique", path, key, i, id)
		}
		seen[id] = true
	}
	return list, ""
}

func checkListPicker(path string, lp object) string {
	sections, ok := lp.objects("sections")
	if !ok || len(sections) == 0 {
		return path + ".sections must be a non-empty array of objects"
	}
	seen := map[string]bool{}
	for i, sec := range sections {
		spath := fmt.Sprintf("%s.sections[%d]", path, i)
		if raw, present := sec["multipleSelection"]; present {
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				return spath + ".multipleSelection must be a boolean"
			}
		}
		if _, p := checkIdentified(spath, sec, "items", seen); p != "" {
			return p
		}
	}
	return ""
}

func checkEvent(path string, ev object) string {
	slots, p := checkIdentified(path, ev, "timeslots", map[string]bool{})
	if p != "" {
		return p
	}
	for i, slot := range slots {
		start := slot.str("startTime")
		if _, err := time.Parse(slotLayout, start); err != nil {
			return fmt.Sprintf("%s.timeslots[%d].startTime %q: want the form 2022-07-10T17:00+0000", path, i, start)
		}
	}
	return ""
}

func checkQuickReply(path string, qr object) string {
	items, p := checkIdentified(path, qr, "items", map[string]bool{})
	if p != "" {
		return p
	}
	if n := len(items); n < 2 || n > 5 {
		return fmt.Sprintf("%s.items: %d items, want 2 to 5", path, n)
	}
	for i, it := range items {
		if it.str("title") == "" {
			return fmt.Sprintf("%s.items[%d].title is required", path, i)
		}
	}
	return ""
}

func checkAuth(path string, auth object) string {
	oauth, ok := auth.obj("oauth2")
	if !ok {
		return path + ".oauth2 is required"
	}
	if rt := oauth.str("responseType"); rt != "code" && rt != "token" {
		return fmt.Sprintf("%s.oauth2.responseType %q: want code or token", path, rt)
	}
	if _, err := responseKey(oauth); err != nil {
		return path + ".oauth2.responseEncryptionKey: " + err.Error()
	}
	return ""
}

// responseKey returns the P-384 public key of an oauth2 request.
func responseKey(oauth object) (*ecdh.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(oauth.str("responseEncryptionKey"))
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("want the Base64 of an uncompressed P-384 point")
	}
	pub, err := ecdh.P384().NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%d bytes that are not an uncompressed P-384 point", len(raw))
	}
	return pub, nil
}

func checkPayment(path string, pay object) string {
	if _, ok := pay.obj("paymentRequest"); !ok {
		return path + ".paymentRequest is required"
	}
	endpoints, ok := pay.obj("endpoints")
	if !ok {
		return path + ".endpoints is required"
	}
	if !isHTTPURL(endpoints.str("paymentGatewayUrl")) {
		return path + ".endpoints.paymentGatewayUrl must be an http(s) URL"
	}
	return ""
}

// checkRichLink returns the problem of a richLinkData, or "".
func checkRichLink(raw json.RawMessage) string {
	rl, ok := decodeObject(raw)
	if !ok {
		return "richLinkData must be an object"
	}
	if !isHTTPURL(rl.str("url")) {
		return "richLinkData.url must be an http(s) URL"
	}
	if rl.str("title") == "" {
		return "richLinkData.title is required"
	}
	assets, ok := rl.obj("assets")
	if !ok {
		return "richLinkData.assets is required"
	}
	image, hasImage := assets.obj("image")
	video, hasVideo := assets.obj("video")
	if !hasImage && !hasVideo {
		return "richLinkData.assets needs an image or a video"
	}
	if hasImage {
		b, err := base64.StdEncoding.DecodeString(image.str("data"))
		switch {
		case err != nil || len(b) == 0:
			return "richLinkData.assets.image.data must be Base64 image bytes"
		case len(b) > maxRichLinkImage:
			return fmt.Sprintf("richLinkData.assets.image.data: %d bytes, the limit is %d", len(b), maxRichLinkImage)
		case image.str("mimeType") == "":
			return "richLinkData.assets.image.mimeType is required"
		}
	}
	if hasVideo {
		switch {
		case !isHTTPURL(video.str("url")):
			return "richLinkData.assets.video.url must be an http(s) URL"
		case video.str("mimeType") == "":
			return "richLinkData.assets.video.mimeType is required"
		}
	}
	return ""
}

// checkDataRef returns the problem of an outbound interactiveDataRef, or "".
func checkDataRef(raw json.RawMessage) string {
	ref, ok := decodeObject(raw)
	if !ok {
		return "interactiveDataRef must be an object"
	}
	for _, key := range []string{"bid", "url", "owner", "key"} {
		if ref.str(key) == "" {
			return "interactiveDataRef." + key + " is required"
		}
	}
	if _, present := ref["size"]; !present {
		return "interactiveDataRef.size is required"
	}
	if ref.str("signature-base64") == "" && ref.str("signature") == "" {
		return "interactiveDataRef.signature-base64 is required"
	}
	return ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
