// Package eventbridge is Amazon EventBridge's JSON protocol (AWSEvents,
// awsJson1_1) on an awsapi.Client: PutEvents, in the shapes EventBridge's
// API reference names.
package eventbridge

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
)

// Client calls EventBridge through AWS; it is safe for concurrent use.
type Client struct {
	AWS *awsapi.Client
}

// New returns a Client calling through c.
func New(c *awsapi.Client) *Client { return &Client{AWS: c} }

// MaxEntries is how many entries one PutEvents request may hold.
const MaxEntries = 10

// PutEventsInput is a PutEvents request.
type PutEventsInput struct {
	Entries []PutEventsRequestEntry
}

// PutEventsRequestEntry is one event of a PutEvents request. Detail is a
// JSON object in a string; a zero Time is the time EventBridge receives
// the event.
type PutEventsRequestEntry struct {
	EventBusName string   `json:",omitempty"`
	Source       string   `json:",omitempty"`
	DetailType   string   `json:",omitempty"`
	Detail       string   `json:",omitempty"`
	Resources    []string `json:",omitempty"`
	Time         Time     `json:",omitzero"`
}

// PutEventsOutput is PutEvents' answer: one entry per request entry, in
// the same order, with its EventId when it was accepted and its ErrorCode
// and ErrorMessage when not. A request can succeed while some of its
// entries fail (FailedEntryCount).
type PutEventsOutput struct {
	FailedEntryCount int
	Entries          []PutEventsResultEntry
}

// PutEventsResultEntry is the outcome of one entry.
type PutEventsResultEntry struct {
	EventID      string `json:"EventId"`
	ErrorCode    string
	ErrorMessage string
}

// PutEvents sends events to event buses.
func (c *Client) PutEvents(ctx context.Context, in *PutEventsInput, opts ...awsapi.CallOption) (*PutEventsOutput, error) {
	out := new(PutEventsOutput)
	if err := c.AWS.Call(ctx, awsapi.EventBridge, "PutEvents", in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// Time is a timestamp as AWS's JSON protocols write it: seconds since the
// epoch, to the millisecond.
type Time struct{ time.Time }

// MarshalJSON writes t as epoch seconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1e3, 'f', -1, 64), nil
}
