package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/shared/store"
)

// sidecar is what the .meta file next to a blob holds.
type sidecar struct {
	ContentType string            `json:"contentType"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// blobName returns the file name of the blob under key. Escaping makes any
// key one flat, safe file name; escaping the dots too keeps the names clear
// of the ".meta" and ".tmp-" suffixes and of "." and "..".
func blobName(key string) string {
	return strings.ReplaceAll(url.PathEscape(key), ".", "%2E")
}

// PutBlob stores r under key. The blob and its sidecar are written to
// temporary files first, so that a reader sees either the old blob or the
// whole new one.
func (s *Store) PutBlob(ctx context.Context, key string, r io.Reader, contentType string, meta map[string]string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	name := filepath.Join(s.blobs, blobName(key))
	side, err := json.Marshal(sidecar{ContentType: contentType, Meta: meta})
	if err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	body, err := s.writeTemp(name, r)
	if err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	defer os.Remove(body)
	metaTemp, err := s.writeTemp(name+".meta", bytes.NewReader(side))
	if err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	defer os.Remove(metaTemp)

	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if err := os.Rename(metaTemp, name+".meta"); err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	if err := os.Rename(body, name); err != nil {
		return fmt.Errorf("embedded: put blob %q: %w", key, err)
	}
	return nil
}

// writeTemp copies r into a new temporary file beside name and returns its
// path.
func (s *Store) writeTemp(name string, r io.Reader) (string, error) {
	f, err := os.CreateTemp(s.blobs, filepath.Base(name)+".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// GetBlob opens the blob under key.
func (s *Store) GetBlob(ctx context.Context, key string) (io.ReadCloser, store.BlobInfo, error) {
	name := filepath.Join(s.blobs, blobName(key))
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, err)
	}
	info, err := blobInfo(f, name+".meta")
	if err != nil {
		f.Close()
		return nil, store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, err)
	}
	return f, info, nil
}

// StatBlob describes the blob under key without opening it; see
// store.BlobStater.
func (s *Store) StatBlob(ctx context.Context, key string) (store.BlobInfo, error) {
	name := filepath.Join(s.blobs, blobName(key))
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	st, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, err)
	}
	info, err := sidecarInfo(st.Size(), name+".meta")
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("embedded: blob %q: %w", key, err)
	}
	return info, nil
}

// blobInfo describes the open blob f from its sidecar.
func blobInfo(f *os.File, metaName string) (store.BlobInfo, error) {
	st, err := f.Stat()
	if err != nil {
		return store.BlobInfo{}, err
	}
	return sidecarInfo(st.Size(), metaName)
}

// sidecarInfo describes a blob of size bytes from its sidecar.
func sidecarInfo(size int64, metaName string) (store.BlobInfo, error) {
	b, err := os.ReadFile(metaName)
	if err != nil {
		return store.BlobInfo{}, err
	}
	var side sidecar
	if err := json.Unmarshal(b, &side); err != nil {
		return store.BlobInfo{}, fmt.Errorf("%s: %w", metaName, err)
	}
	return store.BlobInfo{Size: size, ContentType: side.ContentType, Meta: side.Meta}, nil
}
