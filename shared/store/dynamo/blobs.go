package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

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
	in := &s3.PutObjectInput{
		Bucket:        s.bucket,
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		Metadata:      meta,
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := s.s3.PutObject(ctx, in); err != nil {
		return errorf("blob %s: %w", key, err)
	}
	return nil
}

// multipart uploads first (a full part) and the rest of r.
func (s *Store) multipart(ctx context.Context, key string, r io.Reader, first []byte, contentType string, meta map[string]string) error {
	in := &s3.CreateMultipartUploadInput{Bucket: s.bucket, Key: aws.String(key), Metadata: meta}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	up, err := s.s3.CreateMultipartUpload(ctx, in)
	if err != nil {
		return errorf("blob %s: %w", key, err)
	}
	abort := func(err error) error {
		// A context already cancelled must not keep the abort from being
		// sent: parts left behind are billed until the lifecycle rule
		// removes them.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		s.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: s.bucket, Key: aws.String(key), UploadId: up.UploadId})
		return errorf("blob %s: %w", key, err)
	}
	var parts []s3types.CompletedPart
	var total int64
	part, n := first, len(first)
	for num := int32(1); n > 0; num++ {
		if total += int64(n); total > MaxBlobSize {
			return abort(fmt.Errorf("more than %d bytes, the limit", MaxBlobSize))
		}
		out, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: s.bucket, Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(part[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return abort(err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		// A short read is the last part; EOF ends the loop with n = 0.
		n, err = io.ReadFull(r, part)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return abort(err)
		}
	}
	if _, err := s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: s.bucket, Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
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
	req, err := s3.NewPresignClient(s.s3).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: s.bucket, Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", errorf("presigning blob %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignPut returns a URL that stores one PUT of exactly size bytes with
// Content-Type contentType under key, for ttl, without credentials; see
// store.PresignPuter.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (string, error) {
	req, err := s3.NewPresignClient(s.s3).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: s.bucket, Key: aws.String(key),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(size)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", errorf("presigning blob %s: %w", key, err)
	}
	return req.URL, nil
}

// GetBlob opens the blob under key; ErrNotFound if there is none. See
// store.Blobs.
func (s *Store) GetBlob(ctx context.Context, key string) (io.ReadCloser, store.BlobInfo, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: s.bucket, Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*s3types.NoSuchKey](err); ok {
			return nil, store.BlobInfo{}, fmt.Errorf("dynamo: blob %s: %w", key, store.ErrNotFound)
		}
		return nil, store.BlobInfo{}, errorf("blob %s: %w", key, err)
	}
	return out.Body, store.BlobInfo{
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		Meta:        out.Metadata,
	}, nil
}

// StatBlob describes the blob under key with a HEAD, which reads none of
// it; ErrNotFound if there is none. See store.BlobStater.
func (s *Store) StatBlob(ctx context.Context, key string) (store.BlobInfo, error) {
	out, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: s.bucket, Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*s3types.NotFound](err); ok {
			return store.BlobInfo{}, fmt.Errorf("dynamo: blob %s: %w", key, store.ErrNotFound)
		}
		return store.BlobInfo{}, errorf("blob %s: %w", key, err)
	}
	return store.BlobInfo{
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		Meta:        out.Metadata,
	}, nil
}
