package payload

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"

	"howett.net/plist"

	"github.com/parleyhq/parley/shared/message"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func bplist(t *testing.T, v any) []byte {
	t.Helper()
	b, err := plist.Marshal(v, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeLocally(t *testing.T) {
	dict := map[string]any{"bid": "b", "data": map[string]any{"requestIdentifier": "req-1", "version": "1.0"}}
	want := `{"bid":"b","data":{"requestIdentifier":"req-1","version":"1.0"}}`
	// An NSKeyedArchiver archive of the same dictionary.
	archive := map[string]any{
		"$archiver": "NSKeyedArchiver", "$version": 100000,
		"$top": map[string]any{"root": plist.UID(1)},
		"$objects": []any{"$null",
			map[string]any{"NS.keys": []any{plist.UID(2), plist.UID(3)}, "NS.objects": []any{plist.UID(4), plist.UID(5)}, "$class": plist.UID(8)},
			"bid", "data", "b",
			map[string]any{"NS.keys": []any{plist.UID(6), plist.UID(9)}, "NS.objects": []any{plist.UID(7), plist.UID(10)}, "$class": plist.UID(8)},
			"requestIdentifier", "req-1",
			map[string]any{"$classname": "NSDictionary"},
			"version", "1.0",
		},
	}
	tests := []struct {
		name string
		in   []byte
		want string
		by   string
		err  error
	}{
		{"gzip of JSON", gz([]byte(want)), want, message.DecodedByGzipJSON, nil},
		{"gzip of a binary plist", gz(bplist(t, dict)), want, message.DecodedByPlist, nil},
		{"binary plist", bplist(t, dict), want, message.DecodedByPlist, nil},
		{"gzip of a keyed archive", gz(bplist(t, archive)), want, message.DecodedByPlist, nil},
		{"garbage (a wrong key)", []byte{0x8e, 0x11, 0x02, 0xfa, 0x00}, "", "", ErrUndecodable},
		{"gzip of garbage", gz([]byte("applesim interactive payload\n{}")), "", "", ErrUndecodable},
		{"a plist that is not a dictionary", bplist(t, []any{"a"}), "", "", ErrUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, by, err := DecodeLocally(tt.in)
			if !errors.Is(err, tt.err) || string(got) != tt.want || by != tt.by {
				t.Errorf("DecodeLocally = %s, %q, %v; want %s, %q, %v", got, by, err, tt.want, tt.by, tt.err)
			}
		})
	}
}
