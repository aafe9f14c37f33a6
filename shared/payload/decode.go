package payload

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"howett.net/plist"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// decodeInteractive turns the decrypted bytes under key into the
// interactive dictionary, as JSON, and says which path decoded it: Apple's
// decodePayload, given the bytes unmodified; or, when it refuses with 403,
// parley's own decoder.
func (s *Service) decodeInteractive(ctx context.Context, key string, info store.BlobInfo) ([]byte, string, error) {
	if info.Size > apple.MaxDecoded {
		return nil, "", fmt.Errorf("%d bytes, the limit of an interactive payload is %d", info.Size, apple.MaxDecoded)
	}
	var dict []byte
	err := s.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		rc, _, err := s.Blobs.GetBlob(ctx, key)
		if err != nil {
			return err
		}
		defer rc.Close()
		dict, err = s.MMCS.DecodePayload(ctx, info.Meta[metaBusiness], info.Meta[metaBID], rc, info.Size)
		return retryable(err)
	})
	var me *apple.MMCSError
	if err == nil || !errors.As(err, &me) || me.Status != 403 {
		return dict, message.DecodedByPlatform, err
	}
	s.log().Warn("decodePayload refused; decoding locally", "key", key, "status", me.Status)
	rc, _, err := s.Blobs.GetBlob(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, apple.MaxDecoded+1))
	if err != nil {
		return nil, "", err
	}
	return DecodeLocally(raw)
}

// Magic numbers of the encodings DecodeLocally reads.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	plistMagic = []byte("bplist00")
)

// ErrUndecodable is a payload DecodeLocally cannot read: after
// decryption with the wrong key, or in an encoding it does not know.
var ErrUndecodable = errors.New("the payload is neither gzip, a binary property list nor JSON: it may have been decrypted with the wrong key")

// DecodeLocally decodes an interactive payload without Apple: gunzipped
// when it starts with the gzip magic, then a binary property list (an
// NSKeyedArchiver archive is unarchived) or a JSON object. It returns the
// dictionary as JSON and the path that decoded it (a message.DecodedBy*
// constant).
func DecodeLocally(b []byte) ([]byte, string, error) {
	if bytes.HasPrefix(b, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrUndecodable, err)
		}
		b, err = io.ReadAll(io.LimitReader(zr, apple.MaxDecoded+1))
		if err != nil {
			return nil, "", fmt.Errorf("%w: gunzip: %v", ErrUndecodable, err)
		}
		if len(b) > apple.MaxDecoded {
			return nil, "", fmt.Errorf("inflated over %d bytes", apple.MaxDecoded)
		}
	}
	switch {
	case bytes.HasPrefix(b, plistMagic):
		var v any
		if _, err := plist.Unmarshal(b, &v); err != nil {
			return nil, "", fmt.Errorf("%w: plist: %v", ErrUndecodable, err)
		}
		v = unarchive(v)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%w: the property list is not a dictionary", ErrUndecodable)
		}
		out, err := json.Marshal(jsonable(m))
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrUndecodable, err)
		}
		return out, message.DecodedByPlist, nil
	case bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) && json.Valid(b):
		return b, message.DecodedByGzipJSON, nil
	}
	return nil, "", ErrUndecodable
}

// unarchive resolves an NSKeyedArchiver archive to the object graph it
// holds (dictionaries, arrays, strings, numbers, data); any other value is
// returned as it is.
func unarchive(v any) any {
	top, ok := v.(map[string]any)
	if !ok || top["$archiver"] != "NSKeyedArchiver" {
		return v
	}
	objects, _ := top["$objects"].([]any)
	roots, _ := top["$top"].(map[string]any)
	var resolve func(x any, depth int) any
	resolve = func(x any, depth int) any {
		if depth > 64 {
			return nil
		}
		if uid, ok := x.(plist.UID); ok {
			if int(uid) >= len(objects) {
				return nil
			}
			x = objects[uid]
			if s, ok := x.(string); ok && s == "$null" {
				return nil
			}
		}
		m, ok := x.(map[string]any)
		if !ok {
			if a, ok := x.([]any); ok {
				out := make([]any, len(a))
				for i, e := range a {
					out[i] = resolve(e, depth+1)
				}
				return out
			}
			return x
		}
		if keys, ok := m["NS.keys"].([]any); ok {
			vals, _ := m["NS.objects"].([]any)
			out := map[string]any{}
			for i, k := range keys {
				if i < len(vals) {
					out[fmt.Sprint(resolve(k, depth+1))] = resolve(vals[i], depth+1)
				}
			}
			return out
		}
		if vals, ok := m["NS.objects"].([]any); ok {
			return resolve(vals, depth+1)
		}
		if s, ok := m["NS.string"]; ok {
			return s
		}
		if d, ok := m["NS.data"]; ok {
			return d
		}
		out := map[string]any{}
		for k, e := range m {
			if k != "$class" {
				out[k] = resolve(e, depth+1)
			}
		}
		return out
	}
	if root, ok := roots["root"]; ok {
		return resolve(root, 0)
	}
	return v
}

// jsonable turns a property list value into one encoding/json can write:
// data becomes Base64 (as []byte does), UIDs numbers.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case plist.UID:
		return uint64(x)
	}
	return v
}
