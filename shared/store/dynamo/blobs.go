package dynamo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/s3"
	"github.com/parleyhq/parley/shared/store"
)

var (
	_ store.PresignPuter = (*Store)(nil)
	_ store.BlobStater   = (*Store)(nil)
)

// MaxBlobSize is the largest blob PutBlob stores: above the 100 MB of
// Apple's largest attachments.
const MaxBlobSize = 128 << 20

// PartSize is the size of the parts in which PutBlob uploads a body it
// cannot seek: at most one part is held in memory at a time.
const PartSize = 8 << 20

// PutBlob stores r under key with the given content type and metadata; see
// store.Blobs and the package comment. A body that can seek is sent in one
// PutObject; any other body streams, in a multipart upload of PartSize
// parts (one PutObject when it is smaller than a part). When r fails, the
// upload is aborted and nothing is stored.
func (s *Store) PutBlob(ctx context.Context, key string, r io.Reader, contentType string, meta map[string]string) error {
	if rs, ok := r.(io.ReadSeeker); ok {
		size, err := remaining(rs)
		if err != nil {
			return errorf("blob %s: %w", key, err)
		}
		return s.putObject(ctx, key, rs, size, contentType, meta)
	}
	part := partBufs.Get().(*[PartSize]byte)
	buf := part[:]
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		err = s.putObject(ctx, key, bytes.NewReader(buf[:n]), int64(n), contentType, meta)
	case err != nil:
		err = errorf("blob %s: %w", key, err)
	default:
		err = s.multipart(ctx, key, r, buf, contentType, meta)
	}
	// After a failure the HTTP transport may still be reading the part
	// (a request answered before it was all sent): it is not reused.
	if err == nil {
		partBufs.Put(part)
	}
	return err
}

// partBufs keeps the part buffers of finished uploads for the next ones.
var partBufs = sync.Pool{New: func() any { return new([PartSize]byte) }}

func (s *Store) putObject(ctx context.Context, key string, body io.Reader, size int64, contentType string, meta map[string]string) error {
	_, err := s.blobs.PutObject(ctx, &s3.PutObjectInput{
		Bucket: s.bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType, Metadata: meta,
	})
	if err != nil {
		return errorf("blob %s: %w", key, err)
	}
	return nil
}

// multipart uploads first (a full part) and the rest of r.
func (s *Store) multipart(ctx context.Context, key string, r io.Reader, first []byte, contentType string, meta map[string]string) error {
	id, err := s.blobs.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: s.bucket, Key: key, ContentType: contentType, Metadata: meta})
	if err != nil {
		return errorf("blob %s: %w", key, err)
	}
	abort := func(err error) error {
		// A context already cancelled must not keep the abort from being
		// sent: parts left behind are billed until the lifecycle rule
		// removes them.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.blobs.AbortMultipartUpload(actx, s.bucket, key, id)
		return errorf("blob %s: %w", key, err)
	}
	var parts []s3.Part
	var total int64
	part, n := first, len(first)
	for num := int32(1); n > 0; num++ {
		if total += int64(n); total > MaxBlobSize {
			return abort(fmt.Errorf("more than %d bytes, the limit", MaxBlobSize))
		}
		etag, err := s.blobs.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: s.bucket, Key: key, UploadID: id, PartNumber: num,
			Body: bytes.NewReader(part[:n]), ContentLength: int64(n),
		})
		if err != nil {
			return abort(err)
		}
		parts = append(parts, s3.Part{PartNumber: num, ETag: etag})
		// A short read is the last part; EOF ends the loop with n = 0.
		n, err = io.ReadFull(r, part)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return abort(err)
		}
	}
	if _, err := s.blobs.CompleteMultipartUpload(ctx, s.bucket, key, id, parts); err != nil {
		return abort(err)
	}
	return nil
}

// remaining returns how many bytes rs holds from its position on.
func remaining(rs io.ReadSeeker) (int64, error) {
	cur, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := rs.Seek(cur, io.SeekStart); err != nil {
		return 0, err
	}
	if size := end - cur; size > MaxBlobSize {
		return 0, fmt.Errorf("%d bytes, the limit is %d", size, MaxBlobSize)
	}
	return end - cur, nil
}

// PresignGet returns a URL that reads the blob under key for ttl without
// credentials.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	u, err := s.blobs.PresignGet(s.bucket, key, ttl)
	if err != nil {
		return "", errorf("presigning blob %s: %w", key, err)
	}
	return u, nil
}

// PresignPut returns a URL that stores one PUT of exactly size bytes with
// Content-Type contentType under key, for ttl, without credentials; see
// store.PresignPuter.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (string, error) {
	u, err := s.blobs.PresignPut(s.bucket, key, contentType, size, ttl)
	if err != nil {
		return "", errorf("presigning blob %s: %w", key, err)
	}
	return u, nil
}

// GetBlob opens the blob under key; ErrNotFound if there is none. See
// store.Blobs.
func (s *Store) GetBlob(ctx context.Context, key string) (io.ReadCloser, store.BlobInfo, error) {
	obj, err := s.blobs.GetObject(ctx, s.bucket, key)
	if err != nil {
		if awsapi.ErrorCode(err) == "NoSuchKey" {
			return nil, store.BlobInfo{}, fmt.Errorf("dynamo: blob %s: %w", key, store.ErrNotFound)
		}
		return nil, store.BlobInfo{}, errorf("blob %s: %w", key, err)
	}
	return obj.Body, blobInfo(obj.Info), nil
}

// StatBlob describes the blob under key with a HEAD, which reads none of
// it; ErrNotFound if there is none. See store.BlobStater.
func (s *Store) StatBlob(ctx context.Context, key string) (store.BlobInfo, error) {
	info, err := s.blobs.HeadObject(ctx, s.bucket, key)
	if err != nil {
		if awsapi.ErrorCode(err) == "NotFound" {
			return store.BlobInfo{}, fmt.Errorf("dynamo: blob %s: %w", key, store.ErrNotFound)
		}
		return store.BlobInfo{}, errorf("blob %s: %w", key, err)
	}
	return blobInfo(info), nil
}

func blobInfo(in s3.Info) store.BlobInfo {
	return store.BlobInfo{Size: in.ContentLength, ContentType: in.ContentType, Meta: in.Metadata}
}
