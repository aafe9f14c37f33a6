package config

import (
	"strconv"
	"time"
)

// The settings of Apple Pay's callbacks, read by the function that takes
// them (functions/ingest). Unset, each keeps shared/applepay's default.
const (
	ApplePayLifetime            = "PARLEY_APPLEPAY_LIFETIME"
	ApplePayPaymentAttempts     = "PARLEY_APPLEPAY_PAYMENT_ATTEMPTS"
	ApplePayCallbacksPerRequest = "PARLEY_APPLEPAY_CALLBACKS_PER_REQUEST"
	ApplePayCallbackRate        = "PARLEY_APPLEPAY_CALLBACK_RATE"
)

// ApplePayCallbacks bounds the Apple Pay callbacks parley takes; a zero
// field keeps applepay's default (lifetime 2 h, 5 payment attempts, 50
// callbacks per request, 50 callbacks a second).
type ApplePayCallbacks struct {
	// Lifetime is how long after it is sent a request takes callbacks.
	Lifetime time.Duration
	// PaymentAttempts caps the payments forwarded for one request.
	PaymentAttempts int
	// PerRequest caps the callbacks forwarded for one request.
	PerRequest int
	// Rate is the callbacks a second one instance takes, every request
	// together, in bursts of twice as many.
	Rate float64
}

// ApplePayCallbacks reads the bounds of Apple Pay's callbacks. The
// ranges keep the payment attempts below the callbacks of a request.
func (e *Env) ApplePayCallbacks() ApplePayCallbacks {
	var c ApplePayCallbacks
	if v := e.optional(ApplePayLifetime); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			e.problem("%s must be a duration from 1m to 24h, e.g. 2h", ApplePayLifetime)
			d = 0
		}
		c.Lifetime = d
	}
	c.PaymentAttempts = e.wholeNumber(ApplePayPaymentAttempts, 1, 10)
	c.PerRequest = e.wholeNumber(ApplePayCallbacksPerRequest, 10, 1000)
	if v := e.optional(ApplePayCallbackRate); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r >= 1 && r <= 10000) {
			e.problem("%s must be a number of callbacks per second from 1 to 10000", ApplePayCallbackRate)
			r = 0
		}
		c.Rate = r
	}
	return c
}

// wholeNumber reads name as a whole number from lo to hi; 0 when unset.
func (e *Env) wholeNumber(name string, lo, hi int) int {
	v := e.optional(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.problem("%s must be a whole number from %d to %d", name, lo, hi)
		return 0
	}
	return n
}
