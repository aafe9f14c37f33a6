package whatsapp

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

func timePicker(offset *int, slots ...message.Slot) message.Message {
	return message.Message{Type: message.TypeTimePicker, Title: "Pick a time for your fitting", TimezoneOffset: offset,
		Location: &message.EventLocation{Latitude: 51.5, Longitude: -0.12, Title: "Savile Row studio"}, Slots: slots,
		Bubble: &message.Bubble{Title: "Fitting"}, ReplyTo: "wamid.INBOUND"}
}

func slot(id, start string, duration int) message.Slot {
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		panic(err)
	}
	return message.Slot{ID: id, Start: t, Duration: duration}
}

func TestAdapt(t *testing.T) {
	five := validButtons()
	five.Header = &message.Header{Type: "text", Text: "Booking 8812"}
	five.Body = "Which day?"
	five.Buttons = rows(0, 5)
	fiveList := message.Message{Type: message.TypeList, Header: five.Header, Body: "Which day?", Footer: five.Footer, Button: "Choose",
		Sections: []message.Section{{Title: "Which day?", Items: rows(0, 5)}}}

	tenWithImage := validButtons()
	tenWithImage.Buttons = rows(0, 10)
	tenList := message.Message{Type: message.TypeList, Body: tenWithImage.Body, Footer: tenWithImage.Footer, Button: "Choose",
		Sections: []message.Section{{Title: "Options", Items: rows(0, 10)}}}

	short := message.Message{Type: message.TypeList, Header: &message.Header{Type: "text", Text: "Booking"}, Body: "Keep it?",
		Footer: "Reply today", Button: "Answer", ReplyTo: "wamid.INBOUND",
		Sections: []message.Section{{Title: "Yes", Items: rows(0, 1)}, {Title: "No", Items: rows(1, 2)}}}
	shortButtons := message.Message{Type: message.TypeButtons, Header: short.Header, Body: "Keep it?", Footer: "Reply today",
		ReplyTo: "wamid.INBOUND", Buttons: rows(0, 3)}

	withDescription := validList()
	withDescription.Sections = []message.Section{{Title: "A", Items: []message.Option{{ID: "a", Title: "A", Description: "first"}}}}
	longTitle := validList()
	longTitle.Sections = []message.Section{{Title: "A", Items: []message.Option{item("a", strings.Repeat("t", 21))}}}

	plus60 := 60
	minus300 := -300
	picker := timePicker(&plus60,
		slot("s1", "2026-12-10T13:00:00Z", 1800),
		slot("s2", "2026-12-10T14:30:00Z", 5400),
		slot("s3", "2026-12-11T09:00:00Z", 3600))
	pickerList := message.Message{Type: message.TypeList, Body: "Pick a time for your fitting", Footer: "Savile Row studio",
		Button: "Choose a time", ReplyTo: "wamid.INBOUND", Sections: []message.Section{{Title: "Available times", Items: []message.Option{
			{ID: "s1", Title: "Thu 10 Dec 14:00", Description: "30 min"},
			{ID: "s2", Title: "Thu 10 Dec 15:30", Description: "1 h 30 min"},
			{ID: "s3", Title: "Fri 11 Dec 10:00", Description: "1 h"}}}}}

	tests := []struct {
		name     string
		msg      message.Message
		adapt    bool
		want     message.Message
		wantAd   *message.Adaptation
		wantCode message.Code
		wantText string
	}{
		{name: "without adapt nothing changes", msg: five, want: five},
		{name: "without adapt a timePicker stays", msg: picker, want: picker},
		{name: "native message", msg: validList(), adapt: true, want: validList()},
		{name: "three buttons stay", msg: validButtons(), adapt: true, want: validButtons()},
		{name: "five buttons become a list titled by the body", msg: five, adapt: true, want: fiveList,
			wantAd: &message.Adaptation{From: "buttons", To: "list", Reason: "WhatsApp shows at most 3 reply buttons, so the 5 options are a list"}},
		{name: "ten buttons with an image header", msg: tenWithImage, adapt: true, want: tenList,
			wantAd: &message.Adaptation{From: "buttons", To: "list",
				Reason: "WhatsApp shows at most 3 reply buttons, so the 10 options are a list (without the image header: a list's header is text)"}},
		{name: "eleven buttons stay, and Validate says why", msg: func() message.Message { m := validButtons(); m.Buttons = rows(0, 11); return m }(),
			adapt: true, want: func() message.Message { m := validButtons(); m.Buttons = rows(0, 11); return m }()},
		{name: "buttons whose ids are too long for a list", msg: func() message.Message {
			m := validButtons()
			m.Buttons = rows(0, 4)
			m.Buttons[3].ID = strings.Repeat("i", 201)
			return m
		}(), adapt: true, wantCode: message.CodeInvalidMessage,
			wantText: "this buttons, sent as a list, breaks WhatsApp's limits: message.sections[0].items[3].id: 201 characters, the limit is 200"},
		{name: "a short list becomes buttons", msg: short, adapt: true, want: shortButtons,
			wantAd: &message.Adaptation{From: "list", To: "buttons", Reason: "a list of 3 items without descriptions is sent as reply buttons, answered with one tap"}},
		{name: "a list with descriptions stays", msg: withDescription, adapt: true, want: withDescription},
		{name: "a list with a title too long for a button stays", msg: longTitle, adapt: true, want: longTitle},
		{name: "a list of four stays", msg: withSections(validList(), message.Section{Title: "A", Items: rows(0, 4)}), adapt: true,
			want: withSections(validList(), message.Section{Title: "A", Items: rows(0, 4)})},
		{name: "timePicker becomes a list of slots", msg: picker, adapt: true, want: pickerList,
			wantAd: &message.Adaptation{From: "timePicker", To: "list",
				Reason: "images, bubble and replyBubble are Apple's and were left out; WhatsApp has no time picker, so the slots are a list"}},
		{name: "timePicker west of UTC without a title", msg: func() message.Message {
			m := timePicker(&minus300, slot("s1", "2026-12-10T03:00:00Z", 45))
			m.Title, m.Location, m.Bubble = "", nil, nil
			return m
		}(), adapt: true, want: message.Message{Type: message.TypeList, Body: "Choose a time", Button: "Choose a time", ReplyTo: "wamid.INBOUND",
			Sections: []message.Section{{Title: "Available times", Items: []message.Option{{ID: "s1", Title: "Wed 9 Dec 22:00", Description: "45 s"}}}}},
			wantAd: &message.Adaptation{From: "timePicker", To: "list", Reason: "WhatsApp has no time picker, so the slots are a list"}},
		{name: "timePicker in UTC", msg: func() message.Message {
			m := timePicker(nil, slot("s1", "2026-12-10T14:00:00+01:00", 0))
			m.Bubble = nil
			return m
		}(), adapt: true, want: message.Message{Type: message.TypeList, Body: "Pick a time for your fitting", Footer: "Savile Row studio",
			Button: "Choose a time", ReplyTo: "wamid.INBOUND",
			Sections: []message.Section{{Title: "Available times", Items: []message.Option{{ID: "s1", Title: "Thu 10 Dec 13:00"}}}}},
			wantAd: &message.Adaptation{From: "timePicker", To: "list", Reason: "WhatsApp has no time picker, so the slots are a list"}},
		{name: "timePicker of ten slots", msg: timePicker(nil, tenSlots(10)...), adapt: true, wantAd: &message.Adaptation{}},
		{name: "timePicker of eleven slots", msg: timePicker(nil, tenSlots(11)...), adapt: true,
			wantCode: message.CodeInvalidMessage, wantText: "message.slots: 11 slots, the limit is 10 when sent as a WhatsApp list"},
		{name: "timePicker without slots", msg: timePicker(nil), adapt: true,
			wantCode: message.CodeInvalidMessage, wantText: "message.slots: is required"},
		{name: "timePicker slot without id or start", msg: timePicker(nil, message.Slot{}), adapt: true,
			wantCode: message.CodeInvalidMessage, wantText: "message.slots[0].id: is required; message.slots[0].start: is required"},
		{name: "richLink image left out", msg: message.Message{Type: message.TypeRichLink, Title: "R", URL: "https://shop.example",
			Image: &message.Image{ID: "i"}, VideoURL: "https://shop.example/v.mp4"},
			adapt: true, want: message.Message{Type: message.TypeRichLink, Title: "R", URL: "https://shop.example"},
			wantAd: &message.Adaptation{From: "richLink", To: "richLink", Reason: "WhatsApp previews the page itself, so the image and video were left out"}},
		{name: "apple's bubble left out", msg: func() message.Message { m := validList(); m.Bubble = &message.Bubble{Title: "Pick"}; return m }(),
			adapt: true, want: validList(),
			wantAd: &message.Adaptation{From: "list", To: "list", Reason: "images, bubble and replyBubble are Apple's and were left out"}},
		{name: "apple's envelope left out", msg: func() message.Message {
			m := validList()
			m.Locale, m.Automated, m.Agent, m.SessionIdentifier = "en_US", true, "bot", "s-1"
			return m
		}(), adapt: true, want: validList(),
			wantAd: &message.Adaptation{From: "list", To: "list", Reason: "locale, automated, agent and sessionIdentifier are Apple's and were left out"}},
		{name: "auth", msg: message.Message{Type: message.TypeAuth}, adapt: true,
			wantCode: message.CodeUnsupportedOnChannel, wantText: `WhatsApp has no "auth" message`},
		{name: "applePay", msg: message.Message{Type: message.TypeApplePay}, adapt: true,
			wantCode: message.CodeUnsupportedOnChannel, wantText: `WhatsApp has no "applePay" message`},
		{name: "custom", msg: message.Message{Type: message.TypeCustom}, adapt: true,
			wantCode: message.CodeUnsupportedOnChannel, wantText: `WhatsApp has no "custom" message`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ad, err := Adapt(tt.msg, message.Conversation{}, tt.adapt)
			if tt.wantCode != "" {
				var e *message.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantText) {
					t.Fatalf("Adapt error = %v, want %s mentioning %q", err, tt.wantCode, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Adapt: %v", err)
			}
			if ps := Validate(got); ad != nil && ps != nil {
				t.Errorf("Adapt gave a message Validate refuses: %v", ps)
			}
			if tt.wantAd != nil && *tt.wantAd == (message.Adaptation{}) {
				// Only that it converts within the limits.
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Adapt =\n  %+v\nwant\n  %+v", got, tt.want)
			}
			if !reflect.DeepEqual(ad, tt.wantAd) {
				t.Errorf("adaptation = %+v, want %+v", ad, tt.wantAd)
			}
		})
	}
}

func tenSlots(n int) []message.Slot {
	out := make([]message.Slot, n)
	start := time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = message.Slot{ID: fmt.Sprintf("s%d", i), Start: start.Add(time.Duration(i) * time.Hour), Duration: 3600}
	}
	return out
}
