package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parleyhq/parley/shared/store"
)

// MaxBlobSize is the largest blob PutBlob stores: above the 100 MB of
// Apple's largest attachments.
const MaxBlobSize = 128 << 20

// PutBlob stores r under key with the given content type and metadata; see
// store.Blobs and the package comment.
func (s *Store) PutBlob(ctx context.Context, key string, r io.Reader, contentType string, meta map[string]string) error {
	body, size, err := sized(r)
	if err != nil {
		return errorf("blob %s: %w", key, err)
	}
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

// sized returns a body PutObject can send, and its length: r itself when
// it can seek, else r read into memory.
func sized(r io.Reader) (io.Reader, int64, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		cur, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, err
		}
		end, err := rs.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, 0, err
		}
		if _, err := rs.Seek(cur, io.SeekStart); err != nil {
			return nil, 0, err
		}
		if size := end - cur; size > MaxBlobSize {
			return nil, 0, fmt.Errorf("%d bytes, the limit is %d", size, MaxBlobSize)
		}
		return rs, end - cur, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBlobSize+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > MaxBlobSize {
		return nil, 0, fmt.Errorf("more than %d bytes, the limit", MaxBlobSize)
	}
	return bytes.NewReader(b), int64(len(b)), nil
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
