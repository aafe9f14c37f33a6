package whatsapp

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Labels of the lists Adapt makes.
const (
	choiceButton    = "Choose"
	optionsTitle    = "Options"
	timePrompt      = "Choose a time"
	timesTitle      = "Available times"
	slotTitleLayout = "Mon 2 Jan 15:04"
)

// Adapt fits m to WhatsApp when adapt is set (send.Adapter): it returns
// the message to send and, when that is not m as it came, what changed.
// Without adapt m is returned as it is. WhatsApp has nothing to fit per
// conversation, so conv is not read.
//
// With adapt (CHANNEL.md has the table): buttons with 4 to 10 options
// become a list; a list of at most 3 items without descriptions becomes
// reply buttons; a timePicker becomes a list of its slots; a richLink's
// image and Apple's images and bubbles are left out. auth, applePay and
// custom have no WhatsApp form: unsupported_on_channel. A message that
// cannot be converted within WhatsApp's limits is invalid_message.
func Adapt(m message.Message, _ message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	if !adapt {
		return m, nil, nil
	}
	from := m.Type
	var reasons []string
	if m.Images != nil || m.Bubble != nil || m.ReplyBubble != nil {
		m.Images, m.Bubble, m.ReplyBubble = nil, nil, nil
		reasons = append(reasons, "images, bubble and replyBubble are Apple's and were left out")
	}
	if m.Locale != "" || m.Automated || m.Agent != "" || m.SessionIdentifier != "" {
		m.Locale, m.Automated, m.Agent, m.SessionIdentifier = "", false, "", ""
		reasons = append(reasons, "locale, automated, agent and sessionIdentifier are Apple's and were left out")
	}
	switch m.Type {
	case message.TypeAuth, message.TypeApplePay, message.TypeCustom:
		return m, nil, message.Errorf(message.CodeUnsupportedOnChannel,
			"WhatsApp has no %q message and no form close enough to send instead", m.Type)
	case message.TypeImage, message.TypeVideo, message.TypeAudio, message.TypeSticker:
		if m.Caption != "" && (m.Type == message.TypeAudio || m.Type == message.TypeSticker) {
			m.Caption = ""
			reasons = append(reasons, "WhatsApp shows no caption on "+m.Type+" messages; it was left out")
		}
		if m.Filename != "" {
			m.Filename = ""
			reasons = append(reasons, "WhatsApp takes a filename only on documents; it was left out")
		}
	case message.TypeButtons:
		if n := len(m.Buttons); n > buttonsLimit && n <= rowsLimit {
			var why string
			m, why = buttonsToList(m)
			reasons = append(reasons, why)
		}
	case message.TypeList:
		if fitsButtons(m) {
			var why string
			m, why = listToButtons(m)
			reasons = append(reasons, why)
		}
	case message.TypeTimePicker:
		var (
			why string
			err error
		)
		if m, why, err = timePickerToList(m); err != nil {
			return m, nil, err
		}
		reasons = append(reasons, why)
	case message.TypeRichLink:
		if m.Image != nil || m.VideoURL != "" {
			m.Image, m.VideoURL = nil, ""
			reasons = append(reasons, "WhatsApp previews the page itself, so the image and video were left out")
		}
	}
	if len(reasons) == 0 {
		return m, nil, nil
	}
	if from != m.Type {
		if ps := Validate(m); len(ps) > 0 {
			return m, nil, &message.Error{Code: message.CodeInvalidMessage, Details: ps,
				Message: fmt.Sprintf("whatsapp: this %s, sent as a %s, breaks WhatsApp's limits: %s", from, m.Type, ps.Error())}
		}
	}
	return m, &message.Adaptation{From: from, To: m.Type, Reason: strings.Join(reasons, "; ")}, nil
}

// buttonsToList turns buttons with more options than WhatsApp's three
// into a list of one section.
func buttonsToList(m message.Message) (message.Message, string) {
	why := fmt.Sprintf("WhatsApp shows at most %d reply buttons, so the %d options are a list", buttonsLimit, len(m.Buttons))
	title := m.Body
	if title == "" || message.Len(title) > sectionTitleLimit {
		title = optionsTitle
	}
	l := message.Message{
		Type:     message.TypeList,
		Body:     m.Body,
		Footer:   m.Footer,
		Button:   choiceButton,
		Sections: []message.Section{{Title: title, Items: make([]message.Option, len(m.Buttons))}},
		ReplyTo:  m.ReplyTo,
	}
	for i, b := range m.Buttons {
		l.Sections[0].Items[i] = message.Option{ID: b.ID, Title: b.Title, Description: b.Description}
	}
	if h := m.Header; h != nil {
		if h.Type == "text" {
			l.Header = h
		} else {
			why += fmt.Sprintf(" (without the %s header: a list's header is text)", h.Type)
		}
	}
	return l, why
}

// fitsButtons reports whether a list would do as reply buttons: at most
// three items, titled within a button's limit, uniquely, without
// descriptions or images, and a body buttons can carry.
func fitsButtons(m message.Message) bool {
	if m.AnyMultiple() || message.Len(m.Body) > interactiveBodyLimit {
		return false
	}
	n := 0
	titles := map[string]bool{}
	for _, s := range m.Sections {
		for _, it := range s.Items {
			if it.Description != "" || it.ImageID != "" || message.Len(it.Title) > buttonTitleLimit || titles[it.Title] {
				return false
			}
			titles[it.Title] = true
			n++
		}
	}
	return n > 0 && n <= buttonsLimit
}

func listToButtons(m message.Message) (message.Message, string) {
	b := message.Message{
		Type:    message.TypeButtons,
		Header:  m.Header,
		Body:    m.Body,
		Footer:  m.Footer,
		ReplyTo: m.ReplyTo,
	}
	for _, s := range m.Sections {
		for _, it := range s.Items {
			b.Buttons = append(b.Buttons, message.Option{ID: it.ID, Title: it.Title})
		}
	}
	return b, fmt.Sprintf("a list of %d items without descriptions is sent as reply buttons, answered with one tap", len(b.Buttons))
}

// timePickerToList turns a time picker into a list of its slots, each
// titled with its start in the event's time zone and described by its
// duration.
func timePickerToList(m message.Message) (message.Message, string, error) {
	var ps message.Problems
	switch n := len(m.Slots); {
	case n == 0:
		ps.Add("message.slots", "is required")
	case n > rowsLimit:
		ps.Add("message.slots", "%d slots, the limit is %d when sent as a WhatsApp list", n, rowsLimit)
	}
	ps.MaxLen("message.title", m.Title, ListBodyLimit)
	zone := time.UTC
	if m.TimezoneOffset != nil {
		zone = time.FixedZone("", *m.TimezoneOffset*60)
	}
	items := make([]message.Option, len(m.Slots))
	for i, s := range m.Slots {
		path := fmt.Sprintf("message.slots[%d]", i)
		ps.Required(path+".id", s.ID)
		ps.MaxLen(path+".id", s.ID, rowIDLimit)
		if s.Start.IsZero() {
			ps.Add(path+".start", "is required")
		}
		items[i] = message.Option{ID: s.ID, Title: s.Start.In(zone).Format(slotTitleLayout), Description: duration(s.Duration)}
	}
	if len(ps) > 0 {
		return m, "", &message.Error{Code: message.CodeInvalidMessage, Details: ps,
			Message: "whatsapp: this timePicker cannot be sent as a WhatsApp list: " + ps.Error()}
	}
	l := message.Message{
		Type:     message.TypeList,
		Body:     m.Title,
		Button:   timePrompt,
		Sections: []message.Section{{Title: timesTitle, Items: items}},
		ReplyTo:  m.ReplyTo,
	}
	if l.Body == "" {
		l.Body = timePrompt
	}
	if loc := m.Location; loc != nil && loc.Title != "" && message.Len(loc.Title) <= footerLimit {
		l.Footer = loc.Title
	}
	return l, "WhatsApp has no time picker, so the slots are a list", nil
}

// duration reads seconds as hours and minutes ("1 h 30 min"); zero is
// no description.
func duration(seconds int) string {
	if seconds <= 0 {
		return ""
	}
	if seconds < 60 {
		return fmt.Sprintf("%d s", seconds)
	}
	h, mins := seconds/3600, seconds%3600/60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", mins)
	case mins == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, mins)
}
