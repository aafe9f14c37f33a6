// Package payload is the use case behind functions/fetch and
// functions/decode: the large interactive replies (interactiveDataRef) and
// the attachments an inbound Apple message refers to. Fetch downloads one
// payload, checks its size and decrypts it into the bucket under raw/, in
// one stream; Decode turns a raw object into the message's body (through
// Apple's decodePayload, or locally when it refuses), stores the dictionary
// under decoded/, completes the stored message and emits its
// message.received event. Both are idempotent: a job delivered again does
// no work twice. It knows no Lambda or SQS type.
package payload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
)

// Object key prefixes.
const (
	RawPrefix     = "raw/"
	DecodedPrefix = "decoded/"
)

// Defaults.
const (
	// DefaultMaxAttempts is how many deliveries a job gets: the queues'
	// maxReceiveCount in template.yaml.
	DefaultMaxAttempts = 5
	// PresignTTL is how long an attachment's presigned URL reads it.
	PresignTTL   = 24 * time.Hour
	maxConflicts = 8
)

// Presigner makes read URLs of blobs (the S3 adapter).
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Service fetches and decodes payloads. Store, Blobs, MMCS, Publisher and
// Clock are required.
type Service struct {
	Store     store.Store
	Blobs     store.Blobs
	MMCS      *apple.MMCS
	Publisher bus.Publisher
	Clock     clock.Clock
	Log       *slog.Logger
	// Decodes, when set, is sent a decode job for each raw object Fetch
	// writes: the local stack's stand-in for the bucket's notification.
	Decodes queue.Sender
	// AuthTokens opens the token of a large authentication reply.
	AuthTokens ingest.TokenDecrypter
	// MaxAttempts is the delivery on which a failing job is given up: the
	// message is marked failed with a message.failed event (0:
	// DefaultMaxAttempts).
	MaxAttempts int
	// Retry retries MMCS calls that may succeed later within one delivery.
	Retry retry.Policy
	// Media resolves and downloads WhatsApp customers' files.
	Media MediaSource
	// Presign makes the URLs events carry; nil means Blobs', when it can
	// make them (S3).
	Presign Presigner
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return s.MaxAttempts
}

// RawKey is the raw object of a payload: one per message and payload, so
// that a job delivered again finds the work done.
func RawKey(ch message.Channel, platformMessageID string, p message.PayloadRef) string {
	name := "interactive"
	if p.Kind == message.PayloadAttachment {
		name = "attachment-" + strconv.Itoa(p.Index)
	}
	return RawPrefix + string(ch) + "/" + ingest.KeySegment(platformMessageID) + "/" + name
}

// decodedKey is the decoded dictionary of a raw interactive payload.
func decodedKey(raw string) string {
	return DecodedPrefix + strings.TrimPrefix(raw, RawPrefix) + ".json"
}

// Metadata of raw objects.
const (
	metaKind       = "kind"
	metaChannel    = "channel"
	metaBusiness   = "business-id"
	metaCustomer   = "customer-id"
	metaPlatformID = "platform-message-id"
	metaIndex      = "index"
	metaBID        = "bid"
	metaName       = "name"
	metaMimeType   = "mime-type"
)

// Fetch downloads, checks and decrypts the payload of j into its raw
// object. The download URL is fetched again when it has expired; MMCS
// failures that may cure themselves are retried with backoff. On j's last
// attempt a failure marks the message failed (payload_failed) before it is
// returned.
func (s *Service) Fetch(ctx context.Context, j queue.Job) error {
	err := s.fetch(ctx, j)
	if err != nil && j.Attempt >= s.maxAttempts() {
		s.giveUp(ctx, j.Channel, j.PlatformMessageID, err)
	}
	return err
}

func (s *Service) fetch(ctx context.Context, j queue.Job) error {
	if j.Payload == nil || j.PlatformMessageID == "" {
		return fmt.Errorf("payload: the job names no payload")
	}
	if j.Payload.Kind == message.PayloadMedia {
		return s.fetchMedia(ctx, j)
	}
	key := RawKey(j.Channel, j.PlatformMessageID, *j.Payload)
	if _, err := store.StatBlob(ctx, s.Blobs, key); err == nil {
		s.log().Info("payload already fetched", "key", key)
		return s.decodeNext(ctx, key)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	b, err := apple.ParseBlob(j.Payload.Ref)
	if err != nil {
		return fmt.Errorf("payload: %s: %w", key, err)
	}
	aesKey, err := apple.ParseKey(b.Key)
	if err != nil {
		return err
	}
	meta := map[string]string{
		metaKind: j.Payload.Kind, metaChannel: string(j.Channel), metaBusiness: j.BusinessID, metaCustomer: j.CustomerID,
		metaPlatformID: j.PlatformMessageID, metaIndex: strconv.Itoa(j.Payload.Index),
	}
	if b.BID != "" {
		meta[metaBID] = b.BID
	}
	contentType := "application/octet-stream"
	if b.Name != "" {
		meta[metaName] = url.PathEscape(b.Name)
	}
	if b.MimeType != "" {
		meta[metaMimeType] = b.MimeType
		contentType = b.MimeType
	}
	err = s.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		body, err := s.download(ctx, j.BusinessID, b)
		if err != nil {
			return retryable(err)
		}
		defer body.Close()
		plain, err := apple.CTR(aesKey, &exactly{r: body, left: b.Size})
		if err != nil {
			return err
		}
		return retryable(s.Blobs.PutBlob(ctx, key, plain, contentType, meta))
	})
	if err != nil {
		return fmt.Errorf("payload: fetching %s: %w", key, err)
	}
	s.log().Info("payload fetched", "key", key, "bytes", b.Size)
	return s.decodeNext(ctx, key)
}

// download opens the encrypted blob: preDownload, then the download URL,
// asked for again once if it has already expired (403).
func (s *Service) download(ctx context.Context, businessID string, b apple.Blob) (io.ReadCloser, error) {
	for try := 1; ; try++ {
		u, err := s.MMCS.PreDownload(ctx, businessID, b)
		if err != nil {
			return nil, err
		}
		body, err := s.MMCS.Download(ctx, u)
		var me *apple.MMCSError
		if try == 1 && errors.As(err, &me) && me.Status == 403 {
			s.log().Info("the download URL expired; asking for another")
			continue
		}
		return body, err
	}
}

func (s *Service) decodeNext(ctx context.Context, key string) error {
	if s.Decodes == nil {
		return nil
	}
	return s.Decodes.Send(ctx, queue.Job{Key: key})
}

// exactly reads r, failing with apple.ErrBlobSize unless it holds exactly
// left bytes.
type exactly struct {
	r    io.Reader
	left int64
}

func (e *exactly) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left < 0 {
		return n, fmt.Errorf("%w: more bytes came", apple.ErrBlobSize)
	}
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("%w: %d bytes short", apple.ErrBlobSize, e.left)
	}
	return n, err
}

// retryable marks MMCS and network failures that may cure themselves for
// retry.Policy.
func retryable(err error) error {
	var me *apple.MMCSError
	if errors.As(err, &me) && me.Retryable() {
		return transient{err}
	}
	return err
}

// transient is an error retry.Policy retries: it unwraps to the error and
// to a retryable *message.Error.
type transient struct{ err error }

func (t transient) Error() string { return t.err.Error() }
func (t transient) Unwrap() []error {
	return []error{t.err, &message.Error{Code: message.CodePlatformUnavailable, Message: t.err.Error(), Retryable: true}}
}

// Decode completes the message of a raw object: for an interactive
// payload, the dictionary decodePayload (or the local decoder) makes of it,
// stored under decoded/, becomes the message's body; for an attachment, its
// location. When the message has all its payloads it is received and its
// message.received event is emitted. attempt is the job's delivery; on the
// last one a failure marks the message failed.
func (s *Service) Decode(ctx context.Context, key string, attempt int) error {
	info, err := store.StatBlob(ctx, s.Blobs, key)
	if err != nil {
		return fmt.Errorf("payload: decode %s: %w", key, err)
	}
	ch, pid := message.Channel(info.Meta[metaChannel]), info.Meta[metaPlatformID]
	err = s.decode(ctx, key, info)
	if err != nil && attempt >= s.maxAttempts() {
		s.giveUp(ctx, ch, pid, err)
	}
	return err
}

func (s *Service) decode(ctx context.Context, key string, info store.BlobInfo) error {
	meta := info.Meta
	ch, pid := message.Channel(meta[metaChannel]), meta[metaPlatformID]
	if ch == "" || pid == "" {
		return fmt.Errorf("payload: decode %s: the object has no channel or platform-message-id metadata", key)
	}
	rec, err := s.Store.MessageByPlatformID(ctx, ch, pid)
	if err != nil {
		return fmt.Errorf("payload: decode %s: the message: %w", key, err)
	}
	if rec.Status != message.StatusPayloadPending {
		s.log().Info("payload already applied", "key", key, "message_id", rec.ID, "status", rec.Status)
		return nil
	}
	switch meta[metaKind] {
	case message.PayloadInteractive:
		dict, by, err := s.decodeInteractive(ctx, key, info)
		if err != nil {
			return fmt.Errorf("payload: decode %s: %w", key, err)
		}
		body, replyTo, err := apple.ParseDecoded(dict)
		if err != nil {
			return fmt.Errorf("payload: decode %s: %w", key, err)
		}
		body.DecodedBy = by
		dk := decodedKey(key)
		// The dictionary is written whole, from memory: a decoded object is
		// never partial.
		if err := s.Blobs.PutBlob(ctx, dk, bytes.NewReader(dict), "application/json", map[string]string{metaPlatformID: pid}); err != nil {
			return err
		}
		if body.Auth != nil && body.Auth.EncryptedToken != "" {
			// A token that cannot be opened is in the body's error.
			body.Auth, _ = ingest.OpenAuth(ctx, s.AuthTokens, replyTo, *body.Auth)
		}
		return s.complete(ctx, key, pid, ch, func(rec *message.Record) (bool, string) {
			body.Ref = dk
			rec.Body, rec.Type = body, body.Type
			return true, replyTo
		})
	case message.PayloadAttachment:
		index, err := strconv.Atoi(meta[metaIndex])
		if err != nil {
			return fmt.Errorf("payload: decode %s: index %q", key, meta[metaIndex])
		}
		name, _ := url.PathUnescape(meta[metaName])
		return s.complete(ctx, key, pid, ch, func(rec *message.Record) (bool, string) {
			if rec.Body == nil {
				rec.Body = &message.Body{Type: message.BodyText}
			}
			atts := rec.Body.Attachments
			for len(atts) <= index {
				atts = append(atts, message.Attachment{})
			}
			atts[index] = message.Attachment{Name: name, MimeType: meta[metaMimeType], Size: info.Size, Key: key}
			rec.Body.Attachments = atts
			for _, a := range atts {
				if a.Key == "" {
					return false, ""
				}
			}
			return true, ""
		})
	case message.PayloadMedia:
		return s.completeMedia(ctx, key, pid, ch, info)
	default:
		return fmt.Errorf("payload: decode %s: unknown kind %q", key, meta[metaKind])
	}
}

// complete applies change to the pending message of platform id pid and,
// when change reports the message whole, makes it received and emits its
// event. The claim on key makes a second delivery a no-op.
func (s *Service) complete(ctx context.Context, key, pid string, ch message.Channel, change func(*message.Record) (bool, string)) error {
	for attempt := 0; ; attempt++ {
		err := s.completeOnce(ctx, key, pid, ch, change)
		if errors.Is(err, store.ErrDuplicate) {
			s.log().Info("payload already applied", "key", key)
			return nil
		}
		if errors.Is(err, store.ErrConflict) && attempt < maxConflicts {
			continue
		}
		return err
	}
}

func (s *Service) completeOnce(ctx context.Context, key, pid string, ch message.Channel, change func(*message.Record) (bool, string)) error {
	rec, err := s.Store.MessageByPlatformID(ctx, ch, pid)
	if err != nil {
		return err
	}
	if rec.Status != message.StatusPayloadPending {
		return nil
	}
	now := s.Clock.Now()
	prev := rec.Version
	if rec.Body != nil {
		b := *rec.Body
		b.Attachments = append([]message.Attachment(nil), b.Attachments...)
		if b.Media != nil {
			m := *b.Media
			b.Media = &m
		}
		rec.Body = &b
	}
	whole, replyTo := change(&rec)
	writes := []store.Write{store.Claim{Key: "PAYLOAD#" + key, ExpiresAt: now.Add(ingest.MessageRetention)}}
	var ev *message.Event
	if whole {
		rec.Status = message.StatusReceived
		rec.History = append(rec.History, message.StatusChange{Status: message.StatusReceived, At: now})
		e := message.Event{ID: message.NewEventID(now), Type: message.EventReceived, Time: now, Channel: ch,
			BusinessID: rec.BusinessID, CustomerID: rec.CustomerID, MessageID: rec.ID, PlatformMessageID: pid,
			Routing: rec.Routing}
		body := *rec.Body
		body.Attachments = s.presign(ctx, body.Attachments)
		body.Media = s.presignMedia(ctx, body.Media)
		e.Body = &body
		if replyTo != "" {
			if orig, err := s.Store.MessageByPlatformID(ctx, ch, replyTo); err == nil {
				e.InReplyTo = orig.ID
			} else if errors.Is(err, store.ErrNotFound) {
				e.Unmatched = true
			} else {
				return err
			}
		}
		ev = &e
	}
	rec.UpdatedAt = now
	rec.Version = prev + 1
	writes = append(writes, store.PutMessage{Message: rec, PrevVersion: prev, ExpiresAt: now.Add(ingest.MessageRetention)})
	if ev != nil {
		writes = append(writes, store.AppendEvent{Event: *ev, ExpiresAt: now.Add(ingest.EventRetention)})
	}
	if err := s.Store.Apply(ctx, writes...); err != nil {
		return err
	}
	if ev != nil {
		s.log().Info("payload decoded", "message_id", rec.ID, "body", rec.Type, "decoded_by", rec.Body.DecodedBy)
		if err := s.Publisher.Publish(ctx, *ev); err != nil {
			s.log().Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "error", err)
		}
	}
	return nil
}

// presign adds a read URL to each attachment when the blob store can make
// one.
func (s *Service) presign(ctx context.Context, atts []message.Attachment) []message.Attachment {
	p := s.presigner()
	if p == nil || len(atts) == 0 {
		return atts
	}
	out := append([]message.Attachment(nil), atts...)
	for i := range out {
		u, err := p.PresignGet(ctx, out[i].Key, PresignTTL)
		if err != nil {
			s.log().Warn("presigning an attachment failed", "key", out[i].Key, "error", err)
			continue
		}
		out[i].URL = u
	}
	return out
}

// presignMedia adds a read URL to a media body's file when one can be
// made.
func (s *Service) presignMedia(ctx context.Context, m *message.Media) *message.Media {
	p := s.presigner()
	if p == nil || m == nil || m.Key == "" {
		return m
	}
	u, err := p.PresignGet(ctx, m.Key, PresignTTL)
	if err != nil {
		s.log().Warn("presigning a media file failed", "key", m.Key, "error", err)
		return m
	}
	out := *m
	out.URL, out.URLExpiresAt = u, s.Clock.Now().Add(PresignTTL)
	return &out
}

func (s *Service) presigner() Presigner {
	if s.Presign != nil {
		return s.Presign
	}
	p, _ := s.Blobs.(Presigner)
	return p
}

// giveUp marks the pending message of pid failed with payload_failed and
// emits message.failed. Errors are logged: the job goes to the
// dead-letter queue all the same.
func (s *Service) giveUp(ctx context.Context, ch message.Channel, pid string, cause error) {
	s.log().Error("a payload failed for good", "channel", ch, "platform_message_id", pid, "error", cause)
	for attempt := 0; attempt < maxConflicts; attempt++ {
		rec, err := s.Store.MessageByPlatformID(ctx, ch, pid)
		if err != nil || rec.Status != message.StatusPayloadPending {
			return
		}
		now := s.Clock.Now()
		perr := &message.Error{Code: message.CodePayloadFailed, Message: "the message's payload could not be fetched or decoded: " + cause.Error()}
		prev := rec.Version
		rec.Status, rec.Error, rec.UpdatedAt, rec.Version = message.StatusFailed, perr, now, prev+1
		rec.History = append(rec.History, message.StatusChange{Status: message.StatusFailed, At: now})
		ev := message.Event{ID: message.NewEventID(now), Type: message.EventFailed, Time: now, Channel: ch,
			BusinessID: rec.BusinessID, CustomerID: rec.CustomerID, MessageID: rec.ID, PlatformMessageID: pid,
			Status: message.StatusFailed, Error: perr}
		err = s.Store.Apply(ctx, store.PutMessage{Message: rec, PrevVersion: prev, ExpiresAt: now.Add(ingest.MessageRetention)},
			store.AppendEvent{Event: ev, ExpiresAt: now.Add(ingest.EventRetention)})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			s.log().Error("marking a message failed did not work", "message_id", rec.ID, "error", err)
			return
		}
		if err := s.Publisher.Publish(ctx, ev); err != nil {
			s.log().Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "error", err)
		}
		return
	}
}
