// Package access scopes the callers of the send API to the businesses they
// may act for. API Gateway has already authenticated the caller (IAM
// auth); Scopes maps the caller's IAM principal to the businessIds it may
// send as and read. Without Scopes every authenticated caller may act for
// every business of the deployment.
package access

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// Scopes maps IAM principals (role or user ARNs, in the form Principal
// returns) to the businessIds they may act for. Nil allows everyone
// everything.
type Scopes map[string][]string

// principalARN matches the ARNs a scope may name and that API Gateway
// reports: IAM roles (with or without a path), users, account roots, and
// the STS sessions of assumed roles. It is compiled on first use, not at
// the start of every function that links the package.
var principalARN = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:(aws[a-z-]*):(iam|sts)::([0-9]{12}):(role|user|assumed-role|root)(/.*)?$`)
})

// Principal returns the principal an ARN stands for, as Scopes keys it: the
// role of an assumed-role session (arn:aws:sts::123456789012:assumed-role/
// shop/session → arn:aws:iam::123456789012:role/shop), and a role without
// its path, which session ARNs do not carry. Anything else is returned as
// it is.
func Principal(arn string) string {
	m := principalARN().FindStringSubmatch(arn)
	if m == nil {
		return arn
	}
	partition, service, account, kind, rest := m[1], m[2], m[3], m[4], strings.TrimPrefix(m[5], "/")
	switch {
	case service == "sts" && kind == "assumed-role":
		role, _, _ := strings.Cut(rest, "/")
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, role)
	case service == "iam" && kind == "role":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, rest[strings.LastIndex(rest, "/")+1:])
	}
	return arn
}

// Parse reads scopes written as a JSON object from principal ARN to the
// businessIds it may act for, e.g.
// {"arn:aws:iam::123456789012:role/shop-app": ["106540352242922"]}.
// An empty string gives nil Scopes (everyone may act for every business).
func Parse(v string) (Scopes, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var raw map[string][]string
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf(`must be a JSON object {"<role ARN>": ["<businessId>", …]}: %v`, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("names no principal; leave it empty to let every caller act for every business")
	}
	s := Scopes{}
	for _, arn := range slices.Sorted(maps.Keys(raw)) {
		m := principalARN().FindStringSubmatch(arn)
		if m == nil || m[2] != "iam" || strings.ContainsAny(arn, "*?") || (m[4] != "root" && strings.HasSuffix(arn, "/")) {
			// A caller's ARN names one principal: a wildcard would
			// match no caller.
			return nil, fmt.Errorf("%q is not the ARN of an IAM role or user (one principal, no wildcards)", arn)
		}
		ids := raw[arn]
		if len(ids) == 0 || slices.Contains(ids, "") {
			return nil, fmt.Errorf("%s: give the businessIds it may act for (at least one, none empty)", arn)
		}
		p := Principal(arn)
		s[p] = append(s[p], ids...)
	}
	return s, nil
}

// Check returns nil when caller may act for businessID, and a forbidden
// error naming both otherwise. verb says what was tried ("send as",
// "read").
func (s Scopes) Check(caller, businessID, verb string) error {
	if s == nil || slices.Contains(s[Principal(caller)], businessID) {
		return nil
	}
	who := caller
	if who == "" {
		who = "a caller without an IAM identity"
	}
	return &message.Error{Code: message.CodeForbidden,
		Message: fmt.Sprintf("%s may not %s business %s", who, verb, businessID),
		Details: message.Problems{{Field: "businessId", Problem: "not one of the caller's businesses: " + businessID}}}
}

// Businesses returns the businessIds caller may act for, and whether it is
// limited to them (false: every business).
func (s Scopes) Businesses(caller string) ([]string, bool) {
	if s == nil {
		return nil, false
	}
	return s[Principal(caller)], true
}

type callerKey struct{}

// WithCaller returns ctx carrying the ARN of the authenticated caller.
func WithCaller(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, callerKey{}, arn)
}

// Caller returns the ARN WithCaller put in ctx ("" when none).
func Caller(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}
