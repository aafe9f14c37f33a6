package apple

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Capabilities of Apple's capability-list.
const (
	CapQuick = "QUICK"
	CapList  = "LIST"
	CapTime  = "TIME"
	CapAuth  = "AUTH"
	CapAuth2 = "AUTH2"
	CapForm  = "FORM"
)

// needs returns the capabilities of which a device must list one to show
// messages of type typ; nil when every device shows them. Apple does not
// say which capability marks an iPhone or iPad, the only devices that show
// iMessage apps; parley takes FORM, which Apple also limits to them.
func needs(typ string) []string {
	switch typ {
	case message.TypeList:
		return []string{CapList}
	case message.TypeButtons:
		return []string{CapQuick}
	case message.TypeTimePicker:
		return []string{CapTime}
	case message.TypeAuth:
		return []string{CapAuth2, CapAuth}
	case message.TypeCustom:
		return []string{CapForm}
	}
	return nil
}

// device is what a conversation says of the customer's device.
type device []string

// has reports whether the device lists one of caps. A device that listed
// nothing is unknown and taken to show everything.
func (d device) has(caps ...string) bool {
	if len(d) == 0 || len(caps) == 0 {
		return true
	}
	for _, c := range caps {
		for _, h := range d {
			if strings.EqualFold(h, c) {
				return true
			}
		}
	}
	return false
}

// Adapt fits m to conv's device (its capability-list). A message the device
// can show, or any message when the device is unknown, is returned as it
// is. Otherwise, without adapt it is refused with unsupported_on_device
// naming the missing capability; with adapt it becomes the closest form the
// device shows: a list a quick reply (QUICK, 2 to 5 items) or numbered text;
// a time picker a list picker (LIST), a quick reply (QUICK, 2 to 5 slots)
// or numbered text; buttons numbered text. With adapt, types Apple lacks
// become its closest form too: ctaUrl a rich link (with an image header) or
// text, locationRequest text; others are refused with
// unsupported_on_channel. With adapt, m is validated first, so that its
// problems are reported against the fields the caller sent.
func Adapt(m message.Message, conv message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	dev := device(conv.Capabilities)
	if !Supports(m.Type) {
		if !adapt {
			return m, nil, nil
		}
		return adaptChannel(m)
	}
	if adapt {
		if ps := Validate(m); len(ps) > 0 {
			return m, nil, message.Invalid(ps)
		}
	}
	need := needs(m.Type)
	if dev.has(need...) {
		return m, nil, nil
	}
	missing := strings.Join(need, " or ")
	if !adapt {
		return m, nil, &message.Error{Code: message.CodeUnsupportedOnDevice,
			Message: fmt.Sprintf("the customer's device cannot show a %s message: its capability-list lacks %s; set \"adapt\": true to send the closest form it shows", m.Type, missing)}
	}
	reason := fmt.Sprintf("the customer's device lacks %s", missing)
	var out message.Message
	switch m.Type {
	case message.TypeList:
		out = listFallback(m, dev)
	case message.TypeTimePicker:
		out = timePickerFallback(m, dev)
	case message.TypeButtons:
		titles := make([]string, len(m.Buttons))
		for i, b := range m.Buttons {
			titles[i] = b.Title
		}
		out = numbered(m, m.Body, titles)
	default:
		return m, nil, &message.Error{Code: message.CodeUnsupportedOnDevice,
			Message: fmt.Sprintf("the customer's device cannot show a %s message (its capability-list lacks %s) and it has no closer form", m.Type, missing)}
	}
	return out, &message.Adaptation{From: m.Type, To: out.Type, Reason: reason}, nil
}

// adaptChannel turns a type Apple lacks into its closest Apple form.
func adaptChannel(m message.Message) (message.Message, *message.Adaptation, error) {
	var out message.Message
	switch m.Type {
	case message.TypeCTAURL:
		if h := m.Header; h != nil && h.Type == "image" && h.URL != "" {
			title := m.Body
			if title == "" {
				title = m.Button
			}
			out = message.Message{Type: message.TypeRichLink, URL: m.URL, Title: title, Image: &message.Image{URL: h.URL}}
		} else {
			out = message.Message{Type: message.TypeText, Text: joinLines(headerText(m.Header), m.Body, m.URL, m.Footer)}
		}
	case message.TypeLocationRequest:
		out = message.Message{Type: message.TypeText, Text: m.Body}
	default:
		return m, nil, &message.Error{Code: message.CodeUnsupportedOnChannel,
			Message: fmt.Sprintf("apple has no %q message and parley has no closer form for it", m.Type)}
	}
	out.ReplyTo = m.ReplyTo
	return out, &message.Adaptation{From: m.Type, To: out.Type, Reason: fmt.Sprintf("apple has no %s message", m.Type)}, nil
}

func headerText(h *message.Header) string {
	if h != nil && h.Type == "text" {
		return h.Text
	}
	return ""
}

// joinLines joins the non-empty parts with newlines.
func joinLines(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}

func listFallback(m message.Message, dev device) message.Message {
	var items []message.Option
	for _, s := range m.Sections {
		items = append(items, s.Items...)
	}
	if dev.has(CapQuick) && len(items) >= MinQuickReply && len(items) <= MaxQuickReply {
		buttons := make([]message.Option, len(items))
		for i, it := range items {
			buttons[i] = message.Option{ID: it.ID, Title: it.Title}
		}
		return message.Message{Type: message.TypeButtons, Body: received(m).Title, Buttons: buttons, ReplyTo: m.ReplyTo}
	}
	titles := make([]string, len(items))
	for i, it := range items {
		titles[i] = it.Title
	}
	return numbered(m, m.Body, titles)
}

func timePickerFallback(m message.Message, dev device) message.Message {
	zone := time.UTC
	if m.TimezoneOffset != nil && *m.TimezoneOffset != 0 {
		zone = time.FixedZone(utcOffset(*m.TimezoneOffset), *m.TimezoneOffset*60)
	}
	options := make([]message.Option, len(m.Slots))
	for i, s := range m.Slots {
		options[i] = message.Option{ID: s.ID, Title: slotTitle(s, zone)}
	}
	// The question: the event's title, else (an untitled event, as Apple's
	// sample sends) the bubble's.
	title := received(m).Title
	switch {
	case dev.has(CapList):
		return message.Message{Type: message.TypeList, Body: title, Sections: []message.Section{{Title: m.Title, Items: options}},
			Images: m.Images, Bubble: m.Bubble, ReplyBubble: m.ReplyBubble, ReplyTo: m.ReplyTo}
	case dev.has(CapQuick) && len(options) >= MinQuickReply && len(options) <= MaxQuickReply:
		return message.Message{Type: message.TypeButtons, Body: title, Buttons: options, ReplyTo: m.ReplyTo}
	}
	titles := make([]string, len(options))
	for i, o := range options {
		titles[i] = o.Title
	}
	return numbered(m, title, titles)
}

// slotTitle is how a slot reads as text, e.g. "Thu 10 Jul 17:00–18:00 UTC".
func slotTitle(s message.Slot, zone *time.Location) string {
	start := s.Start.In(zone)
	end := start.Add(time.Duration(s.Duration) * time.Second)
	layout := "15:04"
	if end.YearDay() != start.YearDay() || end.Year() != start.Year() {
		layout = "Mon 2 Jan 15:04"
	}
	return start.Format("Mon 2 Jan 15:04") + "–" + end.Format(layout) + " " + zone.String()
}

// utcOffset names an offset in minutes, e.g. "UTC-07:00".
func utcOffset(minutes int) string {
	sign := "+"
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, minutes/60, minutes%60)
}

// numbered returns a text of intro followed by the titles as a numbered
// list: "1. Apple\n2. Orange".
func numbered(m message.Message, intro string, titles []string) message.Message {
	lines := make([]string, 0, len(titles)+1)
	if intro != "" {
		lines = append(lines, intro)
	}
	for i, t := range titles {
		lines = append(lines, strconv.Itoa(i+1)+". "+t)
	}
	return message.Message{Type: message.TypeText, Text: strings.Join(lines, "\n"), ReplyTo: m.ReplyTo}
}
