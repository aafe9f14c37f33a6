package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

const (
	business = "106540352242922"
	customer = "447700900123"
)

var received = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

const testGroup = "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// sam is the customer of most fixtures, as their contact names them.
func sam() *message.Customer { return &message.Customer{WaID: customer, Name: "Sam Rivera"} }

// platformTime is at, unless at is when the webhook was received: then
// the platform gave no time.
func platformTime(at time.Time) time.Time {
	if at.Equal(received) {
		return time.Time{}
	}
	return at
}

// msg is a message item from the customer to the business; opts change
// it from there.
func msg(wamid string, at time.Time, body *message.Body, replyTo string, opts ...func(*message.InboundItem)) message.InboundItem {
	it := message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
		Customer: sam(), PlatformMessageID: wamid, At: at, PlatformTime: platformTime(at), Body: body, ReplyToPlatformID: replyTo}
	for _, o := range opts {
		o(&it)
	}
	return it
}

// sent is a status item of a message the business sent.
func sent(wamid string, at time.Time, status string, pe *message.PlatformError, opts ...func(*message.InboundItem)) message.InboundItem {
	it := message.InboundItem{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
		Customer: &message.Customer{WaID: customer}, PlatformMessageID: wamid, At: at, PlatformTime: platformTime(at), Status: status, StatusError: pe}
	for _, o := range opts {
		o(&it)
	}
	return it
}

// from sets who wrote or was written to; the conversation is theirs.
func from(c *message.Customer) func(*message.InboundItem) {
	return func(it *message.InboundItem) { it.Customer, it.CustomerID = c, c.ID() }
}

// inGroup puts an item in a group: the conversation is the group's.
func inGroup(group string) func(*message.InboundItem) {
	return func(it *message.InboundItem) { it.GroupID, it.CustomerID = group, group }
}

// detail sets a status's pricing, conversation and callback data.
func detail(d message.StatusDetail) func(*message.InboundItem) {
	return func(it *message.InboundItem) { it.StatusDetail = &d }
}

var samBoth = from(&message.Customer{WaID: customer, UserID: "GB.13491208655302741918", Name: "Sam Rivera"})

var unrendered = &message.PlatformError{Code: 131000, Title: "Something went wrong", Message: "Something went wrong", Details: "Unsupported webhook payload"}

var rateLimit = &message.PlatformError{Code: 130429, Title: "Rate limit hit", Message: "Rate limit hit", Href: "/documentation/business-messaging/whatsapp/support/error-codes",
	Details: "Message failed to send because there were too many messages sent from this phone number in a short period of time"}

// errs adds the platform's errors to a body.
func errs(b *message.Body, pe ...message.PlatformError) *message.Body {
	b.Errors = pe
	return b
}

// withRaw sets an unsupported body's raw item: the message at the place
// given of the fixture file, as it is there.
func withRaw(file string, entry, change, index int, b *message.Body) *message.Body {
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		panic(err)
	}
	var env struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []json.RawMessage `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		panic(err)
	}
	b.Raw = env.Entry[entry].Changes[change].Value.Messages[index]
	return b
}

// pmp is the pricing of a free service message.
func pmp(category, typ string) *message.Pricing {
	f := false
	return &message.Pricing{Billable: &f, Model: "PMP", Type: typ, Category: category}
}

func textBody(s string) *message.Body { return &message.Body{Type: message.BodyText, Text: s} }

func selected(id, title, description string) *message.Body {
	return &message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: id, Title: title, Description: description}}}
}

func unsupportedBody(typ string) *message.Body {
	return &message.Body{Type: message.BodyUnsupported, Unsupported: typ}
}

func reactionBody(to, emoji string) *message.Body {
	return &message.Body{Type: message.BodyReaction, Reaction: &message.ReactionBody{PlatformMessageID: to, Emoji: emoji, Removed: emoji == ""}}
}

func locationBody(lat, lon float64, name, address string) *message.Body {
	return &message.Body{Type: message.BodyLocation, Location: &message.SharedLocation{Latitude: lat, Longitude: lon, Name: name, Address: address}}
}

func flowDone(response, raw string) *message.Body {
	b := &message.Body{Type: message.BodyFlow, Text: raw, Flow: &message.FlowReply{Name: "flow", Body: "Sent"}}
	if response != "" {
		b.Flow.Response = json.RawMessage(response)
	}
	return b
}

// parseCases are the webhooks of testdata/ and what Parse must make of
// them. oneRead says whether the webhook is read in one pass (the fast
// path); the others are read part by part.
var parseCases = []struct {
	file    string
	oneRead bool
	want    Parsed
}{
	{"text.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2QTdCOEM5RDBFMUYyQTNCNEM1RDYA", unix(1760000000),
			textBody("Is the 14:00 slot still free? Café au lait 👍"), ""),
	}}},
	{"text_reply.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMEQ0RjFBNkM3QjhEOUUwRjEA", unix(1760000100),
			textBody("Yes, Friday works"), "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOUE4QjdDNkQ1RTRGM0EyQjFDAA==",
			from(&message.Customer{WaID: customer, UserID: "GB.13491208655302741918", Name: "Sam Rivera"})),
	}}},
	{"list_reply.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A2", unix(1760000100), selected("slot:1400", "14:00–16:00", "Afternoon van"), "wamid.OUR_LIST"),
	}}},
	{"button_reply.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A3", unix(1760000200), selected("booking:8812:keep", "Keep booking", ""), "wamid.OUR_BUTTONS"),
	}}},
	{"button_quick_reply.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A5", unix(1760000400), selected("booking:8812:keep", "Keep booking", ""), "wamid.OUR_TEMPLATE"),
		msg("wamid.A5b", unix(1760000401), selected("Call me", "Call me", ""), "wamid.OUR_TEMPLATE"),
	}}},
	{"location.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A6", unix(1760000500), locationBody(51.5033, -0.1196, "County Hall", "Westminster Bridge Rd, London"), "wamid.OUR_LOCATION_REQUEST"),
		msg("wamid.A6b", unix(1760000501), locationBody(-33.8568, 151.2153, "", ""), ""),
	}}},
	{"order.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A7", unix(1760000600), &message.Body{Type: message.BodyOrder, Order: &message.Order{
			CatalogID: "194836987003835", Text: "For Saturday please", Items: []message.OrderItem{
				{ProductID: "sku-tee-blue-m", Quantity: 2, Price: "7.99", Currency: "GBP"},
				{ProductID: "sku-hat-01", Quantity: 1, Price: "12", Currency: "GBP"},
				{ProductID: "sku-sock-3", Quantity: 3, Price: "0.10", Currency: "GBP"},
			}}}, ""),
	}}},
	{"reaction.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A8", unix(1760000700), reactionBody("wamid.OUR_MESSAGE", "👍🏽"), ""),
	}}},
	{"reaction_removed.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A8b", unix(1760000710), reactionBody("wamid.OUR_MESSAGE", ""), ""),
	}}},
	{"reaction_removed_empty.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A8c", unix(1760000720), reactionBody("wamid.OUR_MESSAGE", ""), ""),
	}}},
	{"nfm_reply.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A4", unix(1760000300), flowDone(`{"flow_token":"case-4812","slot":"1400"}`, ""), "wamid.OUR_FLOW"),
		msg("wamid.A4b", unix(1760000301), flowDone("", `{"flow_token":"case-4812"`), "wamid.OUR_FLOW"),
	}}},
	{"unsupported.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.A9", unix(1760000800), withRaw("unsupported.json", 0, 0, 0, errs(unsupportedBody("unsupported.poll"),
			message.PlatformError{Code: 131051, Title: "Message type unknown", Message: "Message type unknown", Details: "Message type is currently not supported."})), "", samBoth),
	}}},
	{"unsupported_types.json", true, Parsed{Items: []message.InboundItem{
		mediaMsg("wamid.B1", 1760000900, message.Media{Type: "image", MimeType: "image/jpeg", SHA256: "abc", ID: "1402299281192839"}, ""),
		msg("wamid.B2", unix(1760000901), withRaw("unsupported_types.json", 0, 0, 1, unsupportedBody("interactive.address_message")), ""),
		msg("wamid.B3", unix(1760000902), &message.Body{Type: message.BodySystem, System: &message.SystemChange{
			Type: "user_changed_number", Change: message.ChangeNumber, Text: "User changed number", WaID: "447700900124"}}, ""),
		msg("wamid.B4", unix(1760000903), withRaw("unsupported_types.json", 0, 0, 3, unsupportedBody("request_welcome")), ""),
	}}},
	{"statuses.json", true, Parsed{Items: []message.InboundItem{
		sent("wamid.OUR_TEXT_1", unix(1760000010), "sent", nil, detail(message.StatusDetail{Pricing: pmp("service", "free_customer_service")})),
		sent("wamid.OUR_TEXT_1", unix(1760000020), "delivered", nil,
			detail(message.StatusDetail{Pricing: pmp("service", "free_customer_service"), CallbackData: "case-4812"})),
		sent("wamid.OUR_TEXT_1", unix(1760000030), "read", nil),
		sent("wamid.OUR_TEXT_2", unix(1760090000), "failed", &message.PlatformError{Code: 131047, Message: "Re-engagement message",
			Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
			Title:   "Re-engagement message", Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}),
		sent("wamid.OUR_VOICE", unix(1760000040), "played", nil),
	}}},
	// A customer who uses a username: no from, no wa_id; their business-
	// scoped ids, username and name. Then one who shows both ids.
	{"bsuid_username.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.U1", unix(1760001200), textBody("Hi, I ordered the blue tee yesterday"), "", from(&message.Customer{
			UserID: "GB.13491208655302741918", ParentUserID: "GB.ENT.99120034455667788", Username: "sam.rivera", Name: "Sam Rivera"})),
		sent("wamid.OUR_TO_USERNAME", unix(1760001210), "delivered", nil, from(&message.Customer{
			UserID: "GB.13491208655302741918", ParentUserID: "GB.ENT.99120034455667788", Username: "sam.rivera", Name: "Sam Rivera"})),
		msg("wamid.U2", unix(1760001220), textBody("Both ids"), "", from(&message.Customer{
			WaID: "16505551234", UserID: "US.70019283746501928374", Name: "Priya"})),
	}}},
	// A group's message and a status of a message sent to the group: the
	// conversation is the group's; Customer is the participant.
	{"group.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.G1", unix(1760001300), textBody("Is the tasting still on Friday?"), "", from(&message.Customer{
			WaID: "447700900999", UserID: "GB.55501928374650192837", Name: "Alex Moreno"}), inGroup(testGroup)),
		sent("wamid.OUR_GROUP_POST", unix(1760001310), "read", nil, from(&message.Customer{WaID: "447700900999"}), inGroup(testGroup)),
	}}},
	// Every other inbound item of Meta's reference: shared contacts, a
	// location's url, an ad referral, a referred product, a forward, a
	// revoke and an edit with the original id, a call permission answer,
	// system changes (a new number; a new business-scoped id, which comes
	// without from), and an interactive message Meta could not render
	// (kept as failed, with Meta's errors and the item as it came).
	{"inbound_more.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.K1", unix(1760002000), &message.Body{Type: message.BodyContacts, Contacts: []message.ContactCard{{
			Name:   json.RawMessage(`{"formatted_name":"Dana Okafor","first_name":"Dana","last_name":"Okafor"}`),
			Phones: json.RawMessage(`[{"phone":"+44 7700 900456","wa_id":"447700900456","type":"CELL"}]`),
			Emails: json.RawMessage(`[{"email":"dana@example.org","type":"WORK"}]`)}}}, "", samBoth),
		msg("wamid.K2", unix(1760002001), &message.Body{Type: message.BodyLocation, Location: &message.SharedLocation{Latitude: 51.5079, Longitude: -0.0877,
			Name: "Borough Market", Address: "8 Southwark St, London", URL: "https://maps.example/borough"}}, "", samBoth),
		msg("wamid.K3", unix(1760002002), &message.Body{Type: message.BodyText, Text: "Is the spring menu still on?", Referral: &message.Referral{
			SourceURL: "https://fb.example/ads/901", SourceID: "120208811", SourceType: "ad", Headline: "Spring tasting menu", Body: "Six courses, one evening",
			MediaType: "image", ImageURL: "https://cdn.example/spring.jpg", CtwaClid: "ARAkLkA8rmlFeiCktEJQ", WelcomeMessage: "Hi! Ask us anything about the menu."}}, "", samBoth),
		msg("wamid.K4", unix(1760002003), &message.Body{Type: message.BodyText, Text: "Do you have this in medium?",
			ReferredProduct: &message.ReferredProduct{CatalogID: "194836987003835", ProductID: "sku-tee-blue-m"}}, "wamid.CATALOG_VIEW", samBoth),
		msg("wamid.K5", unix(1760002004), &message.Body{Type: message.BodyText, Text: "See below", Forwarded: "frequently"}, "", samBoth),
		msg("wamid.K6", unix(1760002005), &message.Body{Type: message.BodyRevoke, OriginalID: "wamid.K5"}, "", samBoth),
		msg("wamid.K7", unix(1760002006), &message.Body{Type: message.BodyEdit, OriginalID: "wamid.K3",
			Edited: &message.Body{Type: message.BodyText, Text: "Is the spring menu on this Friday?"}}, "", samBoth),
		msg("wamid.K8", unix(1760002007), &message.Body{Type: message.BodyCallPermission, CallPermission: &message.CallPermission{
			Response: "accept", Source: "user_action", ExpiresAt: unix(1760606807)}}, "wamid.CALL_REQUEST", samBoth),
		msg("wamid.K9", unix(1760002008), &message.Body{Type: message.BodySystem, System: &message.SystemChange{Type: "user_changed_number", Change: message.ChangeNumber,
			Text: "User Sam Rivera changed from 447700900123 to 447700900777", WaID: "447700900777"}}, "", samBoth),
		msg("wamid.K10", unix(1760002009), &message.Body{Type: message.BodySystem, System: &message.SystemChange{Type: "user_changed_user_id", Change: message.ChangeUserID,
			Text: "User changed from GB.13491208655302741918 to GB.88812345678901234567", UserID: "GB.88812345678901234567",
			PreviousUserID: "GB.13491208655302741918"}}, "", from(&message.Customer{UserID: "GB.13491208655302741918"})),
		msg("wamid.K11", unix(1760002010), withRaw("inbound_more.json", 0, 2, 0, errs(unsupportedBody("interactive"), *unrendered)), "wamid.OUR_LIST", samBoth,
			func(it *message.InboundItem) { it.EventType, it.StatusError = message.EventFailed, unrendered }),
		{Kind: message.KindNotice, EventType: message.EventPlatformError, Channel: message.WhatsApp, BusinessID: business,
			CustomerID: business, PlatformMessageID: "error.f31a1efa9686048e7d67a085b37ac1ab", At: received,
			StatusError: unrendered, Body: &message.Body{Type: message.BodyError, Errors: []message.PlatformError{*unrendered}}},
	}}},
	// Identity changes (the customer's security code changed): the new
	// identity from the message's identity object, from the older form's
	// system.identity, or from the contact's identity_key_hash.
	{"system_identity.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.S1", unix(1760004000), &message.Body{Type: message.BodySystem, System: &message.SystemChange{Type: "customer_identity_changed",
			Change: message.ChangeIdentity, Text: "User identity changed",
			Identity: &message.IdentityChange{Hash: "Nq3vX0aTlyo=", Acknowledged: true, CreatedAt: unix(1760004000)}}}, "", samBoth),
		msg("wamid.S2", unix(1760004001), &message.Body{Type: message.BodySystem, System: &message.SystemChange{Type: "user_identity_changed",
			Change: message.ChangeIdentity, Text: "Sam Rivera's security code changed", Identity: &message.IdentityChange{Hash: "b7Kd2mQ9pXs="}}}, "", samBoth),
		msg("wamid.S3", unix(1760004002), &message.Body{Type: message.BodySystem, System: &message.SystemChange{Type: "user_identity_changed",
			Change: message.ChangeIdentity, Text: "User identity changed", Identity: &message.IdentityChange{Hash: "Nq3vX0aTlyo="}}}, "", samBoth),
	}}},
	// A customer comes from a click-to-WhatsApp ad: the business's answer
	// is free, and its statuses name the entry point conversation.
	{"entry_point.json", true, Parsed{Items: []message.InboundItem{
		msg("wamid.E1", unix(1760005000), &message.Body{Type: message.BodyText, Text: "Are the autumn boxes vegetarian?", Referral: &message.Referral{
			SourceURL: "https://fb.example/ads/4471", SourceID: "120208844", SourceType: "ad", Headline: "Autumn boxes are back", Body: "Order by Friday for a free tote",
			MediaType: "video", VideoURL: "https://cdn.example/autumn.mp4", ThumbnailURL: "https://cdn.example/autumn.jpg", CtwaClid: "ARAbQ7pZt1xKc2mVn0Lw"}}, "", samBoth),
		sent("wamid.OUR_AD_REPLY", unix(1760005060), "sent", nil, samBoth, detail(message.StatusDetail{Pricing: pmp("referral_conversion", "free_entry_point"),
			Conversation: &message.PlatformConversation{ID: "5e0c1a7f93b24d6e8a1f0c3b7d9e2a41", Origin: "referral_conversion", ExpiresAt: unix(1760264200)}})),
		sent("wamid.OUR_AD_REPLY", unix(1760005061), "delivered", nil, samBoth, detail(message.StatusDetail{Pricing: pmp("referral_conversion", "free_entry_point"),
			Conversation: &message.PlatformConversation{ID: "5e0c1a7f93b24d6e8a1f0c3b7d9e2a41", Origin: "referral_conversion"}})),
	}}},
	// An error for a whole change, tied to no message: a platform.error
	// notice.
	{"platform_error.json", true, Parsed{Items: []message.InboundItem{
		{Kind: message.KindNotice, EventType: message.EventPlatformError, Channel: message.WhatsApp, BusinessID: business,
			CustomerID: business, PlatformMessageID: "error.f955bfb54f1c7fbfab09d95557c1379d", At: received,
			StatusError: rateLimit, Body: &message.Body{Type: message.BodyError, Errors: []message.PlatformError{*rateLimit}}},
	}}},
	// A marketing opt-out: a customer.preferences notice for the app.
	{"user_preferences.json", true, Parsed{Items: []message.InboundItem{
		{Kind: message.KindNotice, EventType: message.EventPreferences, Channel: message.WhatsApp, BusinessID: business, CustomerID: "GB.13491208655302741918",
			Customer: &message.Customer{WaID: customer, UserID: "GB.13491208655302741918", Name: "Sam Rivera"}, PlatformMessageID: "preference.570791b50e39be54023bc39095791af9",
			At: unix(1760003000), PlatformTime: unix(1760003000), Body: &message.Body{Type: message.BodyPreferences, Preferences: []message.Preference{{
				Category: "marketing_messages", Value: "stop", Detail: "User requested to stop marketing messages", At: unix(1760003000)}}}},
	}}},
	{"mixed.json", false, Parsed{
		Items: []message.InboundItem{
			msg("wamid.M1", unix(1760000000), textBody("first"), ""),
			msg("wamid.M5", received, textBody("no timestamp"), ""),
			msg("wamid.M6", unix(1760000006), locationBody(51.5033, -0.1196, "", ""), ""),
			sent("wamid.OUR_1", unix(1760000010), "read", nil, from(sam())),
			// A status without recipient_id is kept: it names its message.
			sent("wamid.OUR_2", unix(1760000011), "delivered", nil, from(sam())),
			// An error for a whole change: a platform.error notice.
			{Kind: message.KindNotice, EventType: message.EventPlatformError, Channel: message.WhatsApp, BusinessID: "106540352242923",
				CustomerID: "106540352242923", PlatformMessageID: "error.35fa851ffe5c66bd98926f627c091ef5", At: received,
				StatusError: rateLimit, Body: &message.Body{Type: message.BodyError, Errors: []message.PlatformError{*rateLimit}}},
			msg("wamid.OTHER_NUMBER", unix(1760000030), textBody("to the second number"), "", from(&message.Customer{WaID: "16505551234"}),
				func(it *message.InboundItem) { it.BusinessID = "106540352242923" }),
		},
		Skipped: []Skipped{
			{"entry[0].changes[0].value.messages[1]", "id is missing"},
			{"entry[0].changes[0].value.messages[2]", `timestamp "soon" is not Unix seconds`},
			{"entry[0].changes[0].value.messages[3]", "text.body is missing"},
			{"entry[0].changes[0].value.statuses[2]", "id: unexpected JSON number"},
			{"entry[1]", "a JSON string where an object was expected"},
			{"entry[2].changes[0]", "value.metadata.phone_number_id is missing"},
			{"entry[2].changes[1]", `field "account_update" is not handled`},
		},
	}},
	{"mixed_interactive.json", false, Parsed{
		Items: []message.InboundItem{
			msg("wamid.C2", unix(1760001001), selected("yes", "Yes", ""), "wamid.OUR_BUTTONS", from(&message.Customer{WaID: customer})),
			msg("wamid.C6", unix(1760001005), flowDone(`{"ok":true}`, ""), "wamid.OUR_FLOW", from(&message.Customer{WaID: customer})),
			sent("wamid.OUR_X", unix(1760001010), "failed", nil),
			sent("wamid.OUR_Y", unix(1760001011), "failed", &message.PlatformError{Code: 131026, Message: "Message undeliverable",
				Details: "Receiver is incapable of receiving this message", Title: "Message undeliverable"}),
		},
		Skipped: []Skipped{
			{"entry[0].changes[0].value.messages[0]", "interactive.list_reply.id is missing"},
			{"entry[0].changes[0].value.messages[2]", "reaction.message_id is missing"},
			{"entry[0].changes[0].value.messages[3]", `order.product_items[0].quantity: "2.5" is not a whole number`},
			{"entry[0].changes[0].value.messages[4]", "location.latitude: unexpected JSON string"},
			{"entry[0].changes[0].value.messages[6]", "interactive.button_reply is missing"},
			{"entry[0].changes[0].value.messages[7]", "button.payload is missing"},
			{"entry[0].changes[0].value.messages[8]", "type is missing"},
			{"entry[0].changes[0].value.statuses[0].errors[0]", "a JSON string where an object was expected"},
		},
	}},
}

func TestParse(t *testing.T) {
	for _, tt := range parseCases {
		t.Run(tt.file, func(t *testing.T) {
			body := readFixture(t, tt.file)
			got, err := Parse(body, received)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkParsed(t, "Parse", got, tt.want)
			// Read part by part, the webhook gives the same.
			each, err := parseEach(body, received)
			if err != nil {
				t.Fatalf("parseEach: %v", err)
			}
			checkParsed(t, "parseEach", each, tt.want)
			if oneRead := json.Unmarshal(body, new(typedEnvelope)) == nil; oneRead != tt.oneRead {
				t.Errorf("read in one pass = %v, want %v", oneRead, tt.oneRead)
			}
		})
	}
}

func checkParsed(t *testing.T, how string, got, want Parsed) {
	t.Helper()
	if !reflect.DeepEqual(got.Items, want.Items) {
		t.Errorf("%s items:\n got %s\nwant %s", how, items(got.Items), items(want.Items))
	}
	if !reflect.DeepEqual(got.Skipped, want.Skipped) {
		t.Errorf("%s skipped:\n got %q\nwant %q", how, got.Skipped, want.Skipped)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", ``, "invalid JSON"},
		{"not json", `<html>hello</html>`, "invalid JSON"},
		{"truncated", `{"object":"whatsapp_business_account","entry":[`, "unexpected end of JSON input"},
		{"array", `[{"object":"whatsapp_business_account"}]`, "a JSON array where an object was expected"},
		{"other object", `{"object":"page","entry":[]}`, `object is "page", not "whatsapp_business_account"`},
		{"no object", `{"entry":[]}`, "object is missing"},
		{"entry not a list", `{"object":"whatsapp_business_account","entry":{}}`, "entry: unexpected JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body), received)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseEmptyEnvelope(t *testing.T) {
	got, err := Parse([]byte(`{"object":"whatsapp_business_account","entry":[],"extra":{"x":1}}`), received)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got.Items) != 0 || len(got.Skipped) != 0 {
		t.Errorf("Parse = %+v, want nothing", got)
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	media, _ := filepath.Glob(filepath.Join("testdata", "media", "*.json"))
	files = append(files, media...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := Parse(body, received)
		each, eachErr := parseEach(body, received)
		// Both reads agree, except on duplicate keys: Meta sends none, and
		// the one-pass read merges them where the other keeps the last.
		if ((err == nil) != (eachErr == nil) || !reflect.DeepEqual(got, each)) && !duplicateKeys(body) {
			t.Fatalf("Parse = %+v, %v\nparseEach = %+v, %v", got, err, each, eachErr)
		}
		if err != nil {
			return
		}
		for i, it := range got.Items {
			switch {
			case it.Kind == "":
				t.Errorf("item %d has no Kind: %+v", i, it)
			case it.PlatformMessageID == "":
				t.Errorf("item %d has no PlatformMessageID: %+v", i, it)
			case it.BusinessID == "" || it.CustomerID == "":
				t.Errorf("item %d has no business or customer: %+v", i, it)
			case it.Channel != message.WhatsApp:
				t.Errorf("item %d has channel %q", i, it.Channel)
			case it.Kind == message.KindMessage && it.Body == nil:
				t.Errorf("message item %d has no Body: %+v", i, it)
			case it.Kind == message.KindStatus && it.Status == "":
				t.Errorf("status item %d has no Status: %+v", i, it)
			case it.Kind == message.KindMessage && !wellFormed(it):
				t.Errorf("message item %d is not well formed: %s", i, items([]message.InboundItem{it}))
			}
		}
	})
}

// duplicateKeys reports whether an object in body has a key twice, as
// encoding/json matches them: without regard to case.
func duplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type object struct {
		keys   map[string]bool
		expect bool // the next string token is a key
	}
	var stack []*object
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, nil)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.expect {
				key := strings.ToLower(tok.(string))
				if top.keys[key] {
					return true
				}
				top.keys[key] = true
				top.expect = false
				continue
			}
		}
		if len(stack) > 0 && stack[len(stack)-1] != nil {
			stack[len(stack)-1].expect = true
		}
	}
}

// wellFormed reports whether a message item's body has what its type
// promises.
func wellFormed(it message.InboundItem) bool {
	b := it.Body
	switch b.Type {
	case message.BodyText, message.BodyUnsupported:
		return true
	case message.BodySelection:
		return len(b.Selections) == 1 && b.Selections[0].ID != ""
	case message.BodyLocation:
		return b.Location != nil
	case message.BodyOrder:
		return b.Order != nil
	case message.BodyReaction:
		return b.Reaction != nil && b.Reaction.PlatformMessageID != "" && b.Reaction.Removed == (b.Reaction.Emoji == "") && it.ReplyToPlatformID == ""
	case message.BodyFlow:
		return b.Flow != nil && (b.Flow.Response == nil || json.Valid(b.Flow.Response))
	case message.BodyMedia:
		return b.Media != nil && b.Media.ID != "" && len(it.Payloads) == 1 && it.Payloads[0].Kind == message.PayloadMedia
	case message.BodyContacts:
		return len(b.Contacts) > 0
	case message.BodyRevoke, message.BodyEdit:
		return b.OriginalID != ""
	case message.BodySystem:
		return b.System != nil && b.System.Type != ""
	case message.BodyCallPermission:
		return b.CallPermission != nil && b.CallPermission.Response != ""
	}
	return false
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// items prints items with their bodies and errors, not pointers.
func items(its []message.InboundItem) string {
	var b strings.Builder
	for _, it := range its {
		js, _ := json.Marshal(it)
		fmt.Fprintf(&b, "\n  %s", js)
	}
	return b.String()
}
