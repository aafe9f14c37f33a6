package whatsappsim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// step is one thing the simulator is asked to post, and the part of a
// fixture (written in the shape of Meta's published examples) the webhook
// must equal.
type step struct {
	path, req string
	// send, when set, is a Graph send made before the request; its wamid
	// stands for the fixture id sendAs.
	send, sendAs string
	// change is the fixture's change; list and index the element of its
	// value the webhook's must equal ("messages", "statuses",
	// "user_preferences", or "" for value.errors alone).
	change     int
	list       string
	index      int
	contacts   bool // the webhook's contacts equal the change's
	errors     bool // the webhook's value.errors equal the change's
	noContacts bool // the webhook has no contacts
}

// The simulator's customer speaks as Meta's examples do: each webhook it
// posts equals the fixture shared/whatsapp parses (the ids it makes up
// aside: wamids, conversation ids and the display number are mapped to
// the fixture's).
func TestWebhooksFollowFixtures(t *testing.T) {
	const sam = `"businessId":"106540352242922","from":"447700900123","userId":"GB.13491208655302741918","name":"Sam Rivera"`
	fixtures := []struct {
		file  string
		steps []step
	}{
		{"inbound_more.json", []step{
			{path: "/reply", req: `{"action":"contacts",` + sam + `,"contacts":[{"name":{"formatted_name":"Dana Okafor","first_name":"Dana","last_name":"Okafor"},
				"phones":[{"phone":"+44 7700 900456","wa_id":"447700900456","type":"CELL"}],"emails":[{"email":"dana@example.org","type":"WORK"}]}]}`,
				list: "messages", index: 0, contacts: true},
			{path: "/reply", req: `{"action":"location","businessId":"106540352242922","from":"447700900123","name":"Borough Market","latitude":51.5079,"longitude":-0.0877,"address":"8 Southwark St, London","url":"https://maps.example/borough"}`,
				list: "messages", index: 1, contacts: true},
			{path: "/reply", req: `{` + sam + `,"text":"Is the spring menu still on?","referral":{"sourceUrl":"https://fb.example/ads/901","sourceId":"120208811","sourceType":"ad",
				"headline":"Spring tasting menu","body":"Six courses, one evening","mediaType":"image","imageUrl":"https://cdn.example/spring.jpg",
				"ctwaClid":"ARAkLkA8rmlFeiCktEJQ","welcomeMessage":"Hi! Ask us anything about the menu."}}`, list: "messages", index: 2, contacts: true},
			{path: "/reply", req: `{` + sam + `,"text":"Do you have this in medium?","replyTo":"wamid.CATALOG_VIEW","referredProduct":{"catalogId":"194836987003835","productId":"sku-tee-blue-m"}}`,
				list: "messages", index: 3, contacts: true},
			{path: "/reply", req: `{` + sam + `,"text":"See below","forwarded":"frequently"}`, list: "messages", index: 4, contacts: true},
			{path: "/reply", req: `{"action":"revoke","replyTo":"wamid.K5"}`, list: "messages", index: 5, contacts: true},
			{path: "/reply", req: `{"action":"edit","replyTo":"wamid.K3","text":"Is the spring menu on this Friday?"}`, list: "messages", index: 6, contacts: true},
			{path: "/reply", req: `{"action":"callPermission",` + sam + `,"replyTo":"wamid.CALL_REQUEST","answer":"accept"}`, list: "messages", index: 7, contacts: true},
			{path: "/reply", req: `{"action":"unrendered",` + sam + `,"replyTo":"wamid.OUR_LIST"}`, change: 2, list: "messages", index: 0, contacts: true, errors: true},
			// The changes last: they change who Sam is.
			{path: "/reply", req: `{"action":"system",` + sam + `,"change":"number","newPhone":"447700900777"}`, list: "messages", index: 8, noContacts: true},
			{path: "/reply", req: `{"action":"system","businessId":"106540352242922","userId":"GB.13491208655302741918","change":"userId","newUserId":"GB.88812345678901234567"}`,
				change: 1, list: "messages", index: 0, noContacts: true},
		}},
		{"system_identity.json", []step{
			{path: "/reply", req: `{"action":"system",` + sam + `,"change":"identity","identityHash":"Nq3vX0aTlyo="}`, list: "messages", index: 0, contacts: true},
		}},
		{"unsupported.json", []step{
			{path: "/reply", req: `{"action":"unsupported",` + sam + `,"unsupported":"poll"}`, list: "messages", index: 0, contacts: true},
		}},
		{"user_preferences.json", []step{
			{path: "/preferences", req: `{` + sam + `,"value":"stop"}`, list: "user_preferences", index: 0, contacts: true},
		}},
		{"bsuid_username.json", []step{
			{path: "/reply", req: `{"businessId":"106540352242922","userId":"GB.13491208655302741918","parentUserId":"GB.ENT.99120034455667788","username":"sam.rivera",
				"hidePhone":true,"name":"Sam Rivera","text":"Hi, I ordered the blue tee yesterday"}`, list: "messages", index: 0, contacts: true},
			{path: "/reply", req: `{"businessId":"106540352242922","from":"16505551234","userId":"US.70019283746501928374","name":"Priya","text":"Both ids"}`,
				change: 2, list: "messages", index: 0, contacts: true},
		}},
		{"group.json", []step{
			{path: "/reply", req: `{"businessId":"106540352242922","from":"447700900999","userId":"GB.55501928374650192837","name":"Alex Moreno",
				"group":"Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw","text":"Is the tasting still on Friday?"}`, list: "messages", index: 0, contacts: true},
			{path: "/status", req: `{"wamid":"wamid.OUR_GROUP_POST","status":"read","participant":"447700900999"}`, sendAs: "wamid.OUR_GROUP_POST",
				send:   `{"messaging_product":"whatsapp","recipient_type":"group","to":"Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw","type":"text","text":{"body":"Yes, at 19:00."}}`,
				change: 1, list: "statuses", index: 0, noContacts: true},
		}},
		{"entry_point.json", []step{
			{path: "/reply", req: `{` + sam + `,"text":"Are the autumn boxes vegetarian?","referral":{"sourceUrl":"https://fb.example/ads/4471","sourceId":"120208844","sourceType":"ad",
				"headline":"Autumn boxes are back","body":"Order by Friday for a free tote","mediaType":"video","videoUrl":"https://cdn.example/autumn.mp4",
				"thumbnailUrl":"https://cdn.example/autumn.jpg","ctwaClid":"ARAbQ7pZt1xKc2mVn0Lw"}}`, list: "messages", index: 0, contacts: true},
			{path: "/status", req: `{"wamid":"wamid.OUR_AD_REPLY","status":"sent"}`, sendAs: "wamid.OUR_AD_REPLY",
				send:   `{"messaging_product":"whatsapp","to":"+447700900123","type":"text","text":{"body":"Yes, all of them."}}`,
				change: 1, list: "statuses", index: 0, contacts: true},
			{path: "/status", req: `{"wamid":"wamid.OUR_AD_REPLY","status":"delivered"}`, change: 1, list: "statuses", index: 1, contacts: true},
		}},
		{"platform_error.json", []step{
			{path: "/error", req: `{"businessId":"106540352242922","code":130429}`, list: ""},
		}},
	}
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			fixture := readFixture(t, f.file)
			s := newStack(t)
			ids := map[string]string{} // the simulator's ids → the fixture's
			for i, st := range f.steps {
				change := fixture.Entry[0].Changes[st.change].Value
				ids[displayNumber(change.Metadata.PhoneNumberID)] = change.Metadata.DisplayPhoneNumber
				var want map[string]any
				if st.list != "" {
					want = change.list(t, st.list)[st.index]
					ts := want["timestamp"]
					if s, ok := ts.(string); ok {
						ts, _ = strconv.ParseFloat(s, 64)
					}
					s.clock.Set(time.Unix(int64(ts.(float64)), 0))
				}
				if st.send != "" {
					status, ans := s.send(t, st.send)
					if status != 200 {
						t.Fatalf("step %d: send %d %+v", i, status, ans.Error)
					}
					ids[ans.Messages[0].ID] = st.sendAs
				}
				req := st.req
				for sim, fix := range ids {
					req = strings.ReplaceAll(req, `"`+fix+`"`, `"`+sim+`"`)
				}
				var got delivery
				if status := s.post(t, st.path, "", req, &got); status != 200 || got.WebhookStatus != 200 {
					t.Fatalf("step %d: POST %s = %d %+v", i, st.path, status, got)
				}
				_, raw := s.hooks.last(t)
				var hook webhookFixture
				if err := json.Unmarshal(raw, &hook); err != nil {
					t.Fatal(err)
				}
				v := hook.Entry[0].Changes[0].Value
				if st.list == "messages" {
					ids[got.WAMID] = want["id"].(string)
				}
				mapIDs := func(x any) any {
					b, _ := json.Marshal(x)
					out := string(b)
					for sim, fix := range ids {
						out = strings.ReplaceAll(out, `"`+sim+`"`, `"`+fix+`"`)
					}
					var back any
					json.Unmarshal([]byte(out), &back)
					return back
				}
				if st.list != "" {
					gotItem := v.list(t, st.list)[0]
					if conv, ok := gotItem["conversation"].(map[string]any); ok {
						ids[conv["id"].(string)] = want["conversation"].(map[string]any)["id"].(string)
					}
					same(t, "step "+strconv.Itoa(i)+" "+st.list, mapIDs(gotItem), want)
				}
				if hook.Entry[0].Changes[0].Field != fixture.Entry[0].Changes[st.change].Field {
					t.Errorf("step %d: field %q, want %q", i, hook.Entry[0].Changes[0].Field, fixture.Entry[0].Changes[st.change].Field)
				}
				if st.contacts {
					same(t, "step "+strconv.Itoa(i)+" contacts", mapIDs(v.Contacts), change.Contacts)
				}
				if st.noContacts && v.Contacts != nil {
					t.Errorf("step %d: contacts %v, want none", i, v.Contacts)
				}
				if st.errors || st.list == "" {
					same(t, "step "+strconv.Itoa(i)+" errors", mapIDs(v.Errors), change.Errors)
				}
				if !st.errors && st.list != "" && v.Errors != nil {
					t.Errorf("step %d: value.errors %v, want none", i, v.Errors)
				}
			}
		})
	}
}

// webhookFixture is a webhook read generically.
type webhookFixture struct {
	Entry []struct {
		Changes []struct {
			Field string       `json:"field"`
			Value fixtureValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type fixtureValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts        any              `json:"contacts"`
	Messages        []map[string]any `json:"messages"`
	Statuses        []map[string]any `json:"statuses"`
	UserPreferences []map[string]any `json:"user_preferences"`
	Errors          any              `json:"errors"`
}

func (v fixtureValue) list(t *testing.T, name string) []map[string]any {
	t.Helper()
	l := map[string][]map[string]any{"messages": v.Messages, "statuses": v.Statuses, "user_preferences": v.UserPreferences}[name]
	if len(l) == 0 {
		t.Fatalf("no %s in the value", name)
	}
	return l
}

func readFixture(t *testing.T, file string) webhookFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "whatsapp", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var w webhookFixture
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}
