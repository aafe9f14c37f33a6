package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApplePayCallbacks(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		want    ApplePayCallbacks
		problem string // "" when none
	}{
		{"unset: the defaults", nil, ApplePayCallbacks{}, ""},
		{"every one set", map[string]string{ApplePayLifetime: "30m", ApplePayPaymentAttempts: "3", ApplePayCallbacksPerRequest: "200", ApplePayCallbackRate: "20"},
			ApplePayCallbacks{Lifetime: 30 * time.Minute, PaymentAttempts: 3, PerRequest: 200, Rate: 20}, ""},
		{"the bounds", map[string]string{ApplePayLifetime: "24h", ApplePayPaymentAttempts: "10", ApplePayCallbacksPerRequest: "10", ApplePayCallbackRate: "0.5e1"},
			ApplePayCallbacks{Lifetime: 24 * time.Hour, PaymentAttempts: 10, PerRequest: 10, Rate: 5}, ""},
		{"lifetime without a unit", map[string]string{ApplePayLifetime: "7200"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_LIFETIME must be a duration from 1m to 24h"},
		{"lifetime of a day and more", map[string]string{ApplePayLifetime: "25h"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_LIFETIME must be a duration from 1m to 24h"},
		{"no payment attempt", map[string]string{ApplePayPaymentAttempts: "0"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_PAYMENT_ATTEMPTS must be a whole number from 1 to 10"},
		{"attempts not a number", map[string]string{ApplePayPaymentAttempts: "five"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_PAYMENT_ATTEMPTS must be a whole number from 1 to 10"},
		{"fewer callbacks than attempts", map[string]string{ApplePayCallbacksPerRequest: "9"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_CALLBACKS_PER_REQUEST must be a whole number from 10 to 1000"},
		{"rate of none", map[string]string{ApplePayCallbackRate: "0"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_CALLBACK_RATE must be a number of callbacks per second from 1 to 10000"},
		{"rate not a number", map[string]string{ApplePayCallbackRate: "fast"}, ApplePayCallbacks{}, "PARLEY_APPLEPAY_CALLBACK_RATE must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := load(t, env(tt.set), nil)
			got := e.Ingest().ApplePayCallbacks
			err := e.Err()
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("Err = %v, want none", err)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("Err = %v, want %q", err, tt.problem)
			}
			if got != tt.want {
				t.Errorf("ApplePayCallbacks = %+v, want %+v", got, tt.want)
			}
		})
	}

	// Only the function that takes the callbacks reads them: a bad value
	// stops no other.
	bad := env(map[string]string{ApplePayLifetime: "forever", PaymentProcessorURL: "https://pay.example.com"})
	for name, read := range Functions {
		e := load(t, bad, nil)
		read(e)
		reads := slices.Contains(Reads(read), ApplePayLifetime)
		if reads != (name == "ingest") {
			t.Errorf("%s reads %s: %v", name, ApplePayLifetime, reads)
		}
		if failed := e.Err() != nil && strings.Contains(e.Err().Error(), ApplePayLifetime); failed != reads {
			t.Errorf("%s with a bad %s: %v", name, ApplePayLifetime, e.Err())
		}
	}
}
