package payload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// MediaSource resolves and downloads files by their platform media id:
// WhatsApp's Graph API (*whatsapp.Client).
type MediaSource interface {
	// Media answers where the file of id can be downloaded, for a few
	// minutes, and its type, hash and size.
	Media(ctx context.Context, id string) (whatsapp.MediaInfo, error)
	// Download opens that URL; whatsapp.ErrURLExpired (wrapped) when it
	// has expired.
	Download(ctx context.Context, url string) (io.ReadCloser, error)
}

// Errors of a media file that does not match what the platform said.
var (
	ErrMediaSize   = errors.New("payload: the media file's size is not what the platform said")
	ErrMediaDigest = errors.New("payload: the media file's SHA-256 is not what the platform said")
	ErrMediaLimit  = errors.New("payload: the media file is over the limit")
)

// MediaKey is the raw object of a customer's media file: under the
// conversation's key, one per message, so that a job delivered again finds
// the work done.
func MediaKey(j queue.Job) string {
	return RawPrefix + string(j.Channel) + "/" + ingest.KeySegment(j.BusinessID) + "/" + ingest.KeySegment(j.CustomerID) + "/" +
		ingest.KeySegment(j.PlatformMessageID) + "/media"
}

// fetchMedia resolves the media id of j, downloads the file (resolving the
// id again when its URL has expired) and streams it into its raw object,
// checking its size against the platform's answer and the limit and its
// SHA-256 against both the webhook's and the platform's. A file that fails
// a check leaves no object.
func (s *Service) fetchMedia(ctx context.Context, j queue.Job) error {
	if s.Media == nil {
		return fmt.Errorf("payload: no media source is configured for %s", j.Channel)
	}
	var md message.Media
	if err := json.Unmarshal(j.Payload.Ref, &md); err != nil || md.ID == "" {
		return fmt.Errorf("payload: the job's media reference names no media id")
	}
	key := MediaKey(j)
	if _, err := store.StatBlob(ctx, s.Blobs, key); err == nil {
		s.log().Info("media already fetched", "key", key)
		return s.decodeNext(ctx, key)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var size int64
	err := s.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		info, body, err := s.openMedia(ctx, md.ID)
		if err != nil {
			return err
		}
		defer body.Close()
		mimeType := info.MimeType
		if mimeType == "" {
			mimeType = md.MimeType
		}
		if mimeType == "" {
			mimeType = "application/octet-stream"
		}
		meta := map[string]string{
			metaKind: message.PayloadMedia, metaChannel: string(j.Channel), metaBusiness: j.BusinessID, metaCustomer: j.CustomerID,
			metaPlatformID: j.PlatformMessageID, metaMimeType: mimeType,
		}
		if md.FileName != "" {
			meta[metaName] = url.PathEscape(md.FileName)
		}
		c := newCheckedMedia(body, info.FileSize, whatsapp.MaxInboundMediaSize, md.SHA256, info.SHA256)
		defer c.close()
		if err := s.Blobs.PutBlob(ctx, key, c, mimeType, meta); err != nil {
			if f := c.failed(); f != nil {
				return f
			}
			return transient{err}
		}
		size = c.n
		return nil
	})
	if err != nil {
		return fmt.Errorf("payload: fetching %s: %w", key, err)
	}
	s.log().Info("media fetched", "key", key, "bytes", size)
	return s.decodeNext(ctx, key)
}

// openMedia resolves id and opens its file; a file Meta says is over the
// limit is refused before it is downloaded, and a URL that expired before
// it was read is resolved once more.
func (s *Service) openMedia(ctx context.Context, id string) (whatsapp.MediaInfo, io.ReadCloser, error) {
	for try := 1; ; try++ {
		info, err := s.Media.Media(ctx, id)
		if err != nil {
			return whatsapp.MediaInfo{}, nil, err
		}
		if info.FileSize > whatsapp.MaxInboundMediaSize {
			return info, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrMediaLimit, info.FileSize, whatsapp.MaxInboundMediaSize)
		}
		body, err := s.Media.Download(ctx, info.URL)
		if errors.Is(err, whatsapp.ErrURLExpired) && try == 1 {
			s.log().Info("the media URL expired; resolving the media id again")
			continue
		}
		return info, body, err
	}
}

// completeMedia records where the file of a media message is and makes the
// message received, with its event.
func (s *Service) completeMedia(ctx context.Context, key, pid string, ch message.Channel, info store.BlobInfo) error {
	return s.complete(ctx, key, pid, ch, func(rec *message.Record) (bool, string) {
		if rec.Body == nil || rec.Body.Media == nil {
			rec.Body = &message.Body{Type: message.BodyMedia, Media: &message.Media{}}
		}
		m := *rec.Body.Media
		m.Key, m.Size = key, info.Size
		if m.MimeType == "" {
			m.MimeType = info.Meta[metaMimeType]
		}
		rec.Body.Media = &m
		return true, ""
	})
}
