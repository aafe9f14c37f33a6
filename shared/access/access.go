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
	"slices"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// Scopes maps IAM principals (role or user ARNs, in the form Principal
// returns) to the businessIds they may act for. Nil allows everyone
// everything.
type Scopes map[string][]string

// principalARN is an ARN a scope may name and that API Gateway reports: an
// IAM role (with or without a path), user or account root, or the STS
// session of an assumed role —
// arn:{partition}:{iam|sts}::{account}:{kind}[/{rest}].
type principalARN struct {
	partition, service, account, kind string
	// rest follows the kind and a slash: a role's path and name, a
	// session's role and session name.
	rest string
}

// parsePrincipalARN reads arn as a principalARN: a partition of aws and
// lower-case letters and hyphens after it (aws, aws-cn, aws-us-gov, …), no
// region, an account of 12 digits, and a rest without a line break.
func parsePrincipalARN(arn string) (principalARN, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[3] != "" {
		return principalARN{}, false
	}
	p := principalARN{partition: f[1], service: f[2], account: f[4]}
	var slash bool
	p.kind, p.rest, slash = strings.Cut(f[5], "/")
	ok := strings.HasPrefix(p.partition, "aws") && strings.Trim(p.partition[3:], "abcdefghijklmnopqrstuvwxyz-") == "" &&
		(p.service == "iam" || p.service == "sts") &&
		len(p.account) == 12 && strings.Trim(p.account, "0123456789") == "" &&
		slices.Contains([]string{"role", "user", "assumed-role", "root"}, p.kind) &&
		(!slash || !strings.Contains(p.rest, "\n"))
	return p, ok
}

// Principal returns the principal an ARN stands for, as Scopes keys it: the
// role of an assumed-role session (arn:aws:sts::123456789012:assumed-role/
// shop/session → arn:aws:iam::123456789012:role/shop), and a role without
// its path, which session ARNs do not carry. Anything else is returned as
// it is.
func Principal(arn string) string {
	p, ok := parsePrincipalARN(arn)
	if !ok {
		return arn
	}
	switch {
	case p.service == "sts" && p.kind == "assumed-role":
		role, _, _ := strings.Cut(p.rest, "/")
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition, p.account, role)
	case p.service == "iam" && p.kind == "role":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition, p.account, p.rest[strings.LastIndex(p.rest, "/")+1:])
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
		if p, ok := parsePrincipalARN(arn); !ok || p.service != "iam" || strings.ContainsAny(arn, "*?") || (p.kind != "root" && strings.HasSuffix(arn, "/")) {
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
