package whatsappsim

import (
	"time"
)

// window is how long a customer message keeps the customer service
// window open.
const window = 24 * time.Hour

// bucket is a token bucket: a phone number's throughput.
type bucket struct {
	tokens float64
	at     time.Time
}

// take takes one token from the bucket of phoneNumberID at now, refilled
// at s.cfg.Rate a second up to one second's worth (at least one message).
// It reports false when the bucket is empty. The caller holds s.mu.
func (s *Simulator) take(phoneNumberID string, now time.Time) bool {
	if s.cfg.Rate <= 0 {
		return true
	}
	capacity := max(s.cfg.Rate, 1)
	b, ok := s.buckets[phoneNumberID]
	if !ok {
		b = &bucket{tokens: capacity, at: now}
		s.buckets[phoneNumberID] = b
	}
	if now.After(b.at) {
		b.tokens = min(capacity, b.tokens+now.Sub(b.at).Seconds()*s.cfg.Rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// open reports whether the customer service window of c is open at now.
// The caller holds s.mu.
func (s *Simulator) open(c chat, now time.Time) bool {
	last, ok := s.lastWrote[c]
	return ok && now.Before(last.Add(window))
}

// wrote records a customer message in c at now, with its wamid when a
// reaction may target it. The caller holds s.mu.
func (s *Simulator) wrote(c chat, now time.Time, wamid string) {
	if now.After(s.lastWrote[c]) {
		s.lastWrote[c] = now
	}
	if wamid != "" {
		s.delivered[wamid] = c
	}
}

// inChat reports whether wamid is a message of c a reaction may target:
// one the simulator accepted for c or delivered from c, not a reaction.
// The caller holds s.mu.
func (s *Simulator) inChat(c chat, wamid string) bool {
	if s.delivered[wamid] == c {
		return true
	}
	for _, a := range s.accepted {
		if a.WAMID == wamid {
			return s.chatOf(a) == c && a.Type != "reaction"
		}
	}
	return false
}
