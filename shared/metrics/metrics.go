// Package metrics records parley's operational metrics as CloudWatch
// Embedded Metric Format (EMF) lines: one JSON object per data point,
// written to the function's standard output, from which CloudWatch Logs
// extracts the metrics. No SDK call, no agent: the log line is the metric.
//
// Dimensions are kept low-cardinality on purpose: a channel, a message or
// event type, an error code, an outcome — never a customer, business or
// message id, which would make one metric per value. Every data point is
// also written without dimensions, the aggregate that alarms watch.
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Metric names. The template's alarms and dashboard name these.
const (
	// MessagesSent counts messages a platform accepted (sent through the
	// API, by the fallback job, or as a fallback). Dimensions: Channel, Type.
	MessagesSent = "MessagesSent"
	// MessagesReceived counts customers' messages stored by the webhooks.
	// Dimensions: Channel, Type (the body's type).
	MessagesReceived = "MessagesReceived"
	// MessagesFailed counts messages that will not arrive: sends refused by
	// the platform or given up on, statuses reporting a failure, payloads
	// that could not be fetched. Dimensions: Channel, Code.
	MessagesFailed = "MessagesFailed"
	// WindowRefusals counts sends refused because WhatsApp's customer
	// service window was closed. Dimensions: Channel.
	WindowRefusals = "WindowRefusals"
	// FallbacksSent counts sends that went out as their fallback (a
	// template outside the window, a message the device can show).
	// Dimensions: Channel.
	FallbacksSent = "FallbacksSent"
	// WebhookLatency is the time a webhook took to answer, in milliseconds;
	// its sample count is the number of webhooks. Dimensions: Channel, Type
	// (message, payment).
	WebhookLatency = "WebhookLatency"
	// WebhookServerErrors counts webhooks answered 5xx (the platform
	// delivers them again). Dimensions: Channel, Type.
	WebhookServerErrors = "WebhookServerErrors"
	// PlatformLatency is the time one call to a platform took, in
	// milliseconds; its sample count is the number of calls. Dimensions:
	// Channel.
	PlatformLatency = "PlatformLatency"
	// PlatformErrors counts platform calls that failed. Dimensions:
	// Channel, Code.
	PlatformErrors = "PlatformErrors"
	// PayloadJobs counts fetch and decode jobs by how they ended.
	// Dimensions: Type (fetch, decode), Outcome (done, retry, failed).
	PayloadJobs = "PayloadJobs"
	// EventsPublished counts events handed to the event bus. Dimensions:
	// Type.
	EventsPublished = "EventsPublished"
	// FallbackLag is how long the oldest due scheduled item has been
	// waiting when a fallback run ends, in seconds (0 when none waits).
	FallbackLag = "FallbackLag"
	// EventsDelivered counts events the app's webhook took (answered 2xx).
	// Dimensions: Type (the event's).
	EventsDelivered = "EventsDelivered"
	// EventDeliveryFailures counts attempts to deliver an event to the
	// app's webhook that failed. Dimensions: Code (the answer's status
	// class, 3xx, 4xx or 5xx, or timeout, unreachable, invalid).
	EventDeliveryFailures = "EventDeliveryFailures"
	// EventDeliveriesParked counts events parked after the last attempt to
	// deliver them. Dimensions: Type.
	EventDeliveriesParked = "EventDeliveriesParked"
	// EventDeliveryLatency is the time from an event's creation to the
	// app's 2xx answer, in milliseconds, retries included. Dimensions: Type.
	EventDeliveryLatency = "EventDeliveryLatency"
)

// Catalog names the dimensions each metric is recorded with, beside the
// aggregate without any. Alarms and dashboards may name exactly these.
var Catalog = map[string][]string{
	MessagesSent:        {"Channel", "Type"},
	MessagesReceived:    {"Channel", "Type"},
	MessagesFailed:      {"Channel", "Code"},
	WindowRefusals:      {"Channel"},
	FallbacksSent:       {"Channel"},
	WebhookLatency:      {"Channel", "Type"},
	WebhookServerErrors: {"Channel", "Type"},
	PlatformLatency:     {"Channel"},
	PlatformErrors:      {"Channel", "Code"},
	PayloadJobs:         {"Type", "Outcome"},
	EventsPublished:     {"Type"},
	FallbackLag:         nil,

	EventsDelivered:       {"Type"},
	EventDeliveryFailures: {"Code"},
	EventDeliveriesParked: {"Type"},
	EventDeliveryLatency:  {"Type"},
}

// Payload job outcomes.
const (
	OutcomeDone   = "done"   // the job finished
	OutcomeRetry  = "retry"  // it failed and will be delivered again
	OutcomeFailed = "failed" // it failed on its last delivery
)

// Unit is a CloudWatch unit.
type Unit string

// The units parley records in.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// Dimensions qualify a data point. Empty fields are left out.
type Dimensions struct {
	Channel string
	Type    string
	Code    string
	Outcome string
}

// names returns the set fields' dimension names, in a fixed order.
func (d Dimensions) names() []string {
	var out []string
	for _, f := range []struct{ name, value string }{
		{"Channel", d.Channel}, {"Type", d.Type}, {"Code", d.Code}, {"Outcome", d.Outcome},
	} {
		if f.value != "" {
			out = append(out, f.name)
		}
	}
	return out
}

// DefaultNamespace is the namespace when none is configured.
const DefaultNamespace = "parley"

// Recorder writes data points as EMF lines to W. A nil *Recorder, or one
// without W, records nothing, so that code paths without metrics (tests,
// the local stack) need no checks.
type Recorder struct {
	// Namespace is the CloudWatch namespace (DefaultNamespace when empty).
	Namespace string
	W         io.Writer
	// Now stamps the data points (time.Now when nil).
	Now func() time.Time
	// Properties returns fields to add to every line, for finding the
	// request a data point came from in the logs (e.g. the request id).
	// They are not dimensions.
	Properties func(ctx context.Context) map[string]string

	mu sync.Mutex
}

// Count records n of name.
func (r *Recorder) Count(ctx context.Context, name string, d Dimensions, n int) {
	r.Record(ctx, name, Count, float64(n), d)
}

// Duration records took, in milliseconds.
func (r *Recorder) Duration(ctx context.Context, name string, d Dimensions, took time.Duration) {
	r.Record(ctx, name, Milliseconds, float64(took.Microseconds())/1000, d)
}

// Record writes one data point of name as one EMF line, with d's
// dimensions and, as an aggregate, without any.
func (r *Recorder) Record(ctx context.Context, name string, unit Unit, value float64, d Dimensions) {
	if r == nil || r.W == nil {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	dims := [][]string{{}}
	if names := d.names(); len(names) > 0 {
		dims = [][]string{names, {}}
	}
	line := map[string]any{
		"_aws": emfMetadata{
			Timestamp: now().UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  ns,
				Dimensions: dims,
				Metrics:    []emfMetric{{Name: name, Unit: unit}},
			}},
		},
		name: value,
	}
	if r.Properties != nil {
		for k, v := range r.Properties(ctx) {
			if v != "" {
				line[k] = v
			}
		}
	}
	for _, f := range []struct{ name, value string }{
		{"Channel", d.Channel}, {"Type", d.Type}, {"Code", d.Code}, {"Outcome", d.Outcome},
	} {
		if f.value != "" {
			line[f.name] = f.value
		}
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	// A metric that cannot be written is lost, never an error of the
	// request it measures.
	_, _ = r.W.Write(b)
}

// emfMetadata is the "_aws" member of an EMF line.
type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}
