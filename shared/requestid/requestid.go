// Package requestid puts the ids of the request being served on every log
// line: the Lambda request id, the X-Ray trace id and, once known, parley's
// message id. A failed delivery can then be followed from the API call to
// the platform's answer by searching the logs for one id.
//
// Lambda runs one invocation at a time in a process, so lines logged
// without a context (slog.Info rather than slog.InfoContext) get the ids
// of the invocation under way, which Lambda sets.
package requestid

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Log attribute names.
const (
	RequestIDKey = "request_id"
	TraceIDKey   = "trace_id"
	MessageIDKey = "message_id"
)

// ids are the ids of one request. The message id is set once the request
// has made or found its message.
type ids struct {
	requestID, traceID string

	mu        sync.Mutex
	messageID string
}

func (i *ids) message() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.messageID
}

type ctxKey int

const (
	idsKey ctxKey = iota
	messageKey
)

// current is the Lambda invocation under way.
var current atomic.Pointer[ids]

// Start returns ctx carrying requestID and traceID (an X-Ray trace header
// or id; either may be empty).
func Start(ctx context.Context, requestID, traceID string) context.Context {
	return context.WithValue(ctx, idsKey, &ids{requestID: requestID, traceID: rootOf(traceID)})
}

// rootOf returns the trace id of an X-Ray trace header
// ("Root=1-…;Parent=…;Sampled=1"), or the value itself.
func rootOf(header string) string {
	for part := range strings.SplitSeq(header, ";") {
		if v, ok := strings.CutPrefix(part, "Root="); ok {
			return v
		}
	}
	return header
}

// Lambda wraps a Lambda handler so that every line logged while it runs
// carries the invocation's request id and trace id.
func Lambda[E, R any](h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, e E) (R, error) {
		var requestID string
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			requestID = lc.AwsRequestID
		}
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		ctx = Start(ctx, requestID, trace)
		i := ctx.Value(idsKey).(*ids)
		current.Store(i)
		defer current.CompareAndSwap(i, nil)
		return h(ctx, e)
	}
}

// WithMessageID returns ctx naming the message that the work done with it
// is about.
func WithMessageID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, messageKey, id)
}

// SetMessageID names the message of the request ctx carries, for every
// line logged after it in that request (its final request line too). Only
// requests about one message call it.
func SetMessageID(ctx context.Context, id string) {
	if i, ok := ctx.Value(idsKey).(*ids); ok {
		i.mu.Lock()
		i.messageID = id
		i.mu.Unlock()
	}
}

// Fields returns the ids known in ctx, by log attribute name; empty ids
// are left out.
func Fields(ctx context.Context) map[string]string {
	out := map[string]string{}
	i := idsOf(ctx)
	if i != nil {
		if i.requestID != "" {
			out[RequestIDKey] = i.requestID
		}
		if i.traceID != "" {
			out[TraceIDKey] = i.traceID
		}
		if m := i.message(); m != "" {
			out[MessageIDKey] = m
		}
	}
	if ctx != nil {
		if m, _ := ctx.Value(messageKey).(string); m != "" {
			out[MessageIDKey] = m
		}
	}
	return out
}

func idsOf(ctx context.Context) *ids {
	if ctx != nil {
		if i, ok := ctx.Value(idsKey).(*ids); ok {
			return i
		}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			return &ids{requestID: lc.AwsRequestID}
		}
	}
	return current.Load()
}

// Handler adds the ids of the request to every record h handles, unless
// the record names them itself.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	fields := Fields(ctx)
	if len(fields) == 0 {
		return h.next.Handle(ctx, r)
	}
	r.Attrs(func(a slog.Attr) bool {
		delete(fields, a.Key)
		return true
	})
	for _, k := range []string{RequestIDKey, TraceIDKey, MessageIDKey} {
		if v, ok := fields[k]; ok {
			r.AddAttrs(slog.String(k, v))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.next.WithAttrs(as)} }
func (h handler) WithGroup(name string) slog.Handler    { return handler{h.next.WithGroup(name)} }
