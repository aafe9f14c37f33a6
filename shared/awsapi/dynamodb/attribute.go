package dynamodb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"
)

// AttributeValue is one DynamoDB attribute value: exactly one of the
// member types S, N, B, BOOL, NULL, L, M, SS, NS and BS, each written as
// DynamoDB's JSON writes it ({"S":"text"}, {"N":"12"}, {"B":"base64"}…).
type AttributeValue interface {
	json.Marshaler
	isAttributeValue()
}

// S is a string.
type S string

// N is a number, kept as DynamoDB's decimal text (up to 38 digits), so
// that no precision is lost.
type N string

// B is binary data, base64 on the wire.
type B []byte

// BOOL is a Boolean.
type BOOL bool

// NULL is the null value; DynamoDB writes it {"NULL":true}.
type NULL bool

// L is a list of values of any types.
type L []AttributeValue

// M is a map of named values.
type M map[string]AttributeValue

// SS is a set of strings.
type SS []string

// NS is a set of numbers.
type NS []string

// BS is a set of binary values.
type BS [][]byte

func (S) isAttributeValue()    {}
func (N) isAttributeValue()    {}
func (B) isAttributeValue()    {}
func (BOOL) isAttributeValue() {}
func (NULL) isAttributeValue() {}
func (L) isAttributeValue()    {}
func (M) isAttributeValue()    {}
func (SS) isAttributeValue()   {}
func (NS) isAttributeValue()   {}
func (BS) isAttributeValue()   {}

// MarshalJSON writes {"S":…}.
func (v S) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"N":…}.
func (v N) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"B":…} in base64.
func (v B) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"BOOL":…}.
func (v BOOL) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"NULL":true}.
func (v NULL) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"L":[…]}.
func (v L) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"M":{…}}.
func (v M) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"SS":[…]}.
func (v SS) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"NS":[…]}.
func (v NS) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// MarshalJSON writes {"BS":[…]} in base64.
func (v BS) MarshalJSON() ([]byte, error) { return appendValue(nil, v) }

// Item is an item, a key, or a set of expression attribute values: named
// attribute values. Its JSON is DynamoDB's, both ways.
type Item map[string]AttributeValue

// errNoMember is the error of a value that is none of the member types.
var errNoMember = errors.New("dynamodb: an attribute value is none of S, N, B, BOOL, NULL, L, M, SS, NS and BS")

// MarshalJSON writes DynamoDB's JSON of the item, its attributes in name
// order. An attribute without a value is an error naming it.
func (it Item) MarshalJSON() ([]byte, error) {
	if it == nil {
		return []byte("null"), nil
	}
	return appendItem(nil, it)
}

func appendItem(buf []byte, it Item) ([]byte, error) {
	buf = append(buf, '{')
	for i, k := range slices.Sorted(maps.Keys(it)) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendString(buf, k), ':')
		var err error
		if buf, err = appendValue(buf, it[k]); err != nil {
			return nil, fmt.Errorf("%w (attribute %q)", err, k)
		}
	}
	return append(buf, '}'), nil
}

// appendValue appends v's JSON to buf.
func appendValue(buf []byte, v AttributeValue) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case S:
		buf = appendString(append(buf, `{"S":`...), string(v))
	case N:
		buf = appendString(append(buf, `{"N":`...), string(v))
	case B:
		buf = appendBase64(append(buf, `{"B":`...), v)
	case BOOL:
		if v {
			buf = append(buf, `{"BOOL":true`...)
		} else {
			buf = append(buf, `{"BOOL":false`...)
		}
	case NULL:
		buf = append(buf, `{"NULL":true`...)
	case L:
		buf = append(buf, `{"L":[`...)
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendValue(buf, e); err != nil {
				return nil, err
			}
		}
		buf = append(buf, ']')
	case M:
		if buf, err = appendItem(append(buf, `{"M":`...), Item(v)); err != nil {
			return nil, err
		}
	case SS:
		buf = appendStrings(append(buf, `{"SS":`...), v)
	case NS:
		buf = appendStrings(append(buf, `{"NS":`...), v)
	case BS:
		buf = append(buf, `{"BS":[`...)
		for i, b := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendBase64(buf, b)
		}
		buf = append(buf, ']')
	default:
		return nil, fmt.Errorf("%w: %T", errNoMember, v)
	}
	return append(buf, '}'), nil
}

func appendStrings(buf []byte, ss []string) []byte {
	buf = append(buf, '[')
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, s)
	}
	return append(buf, ']')
}

func appendBase64(buf, b []byte) []byte {
	buf = append(buf, '"')
	buf = base64.StdEncoding.AppendEncode(buf, b)
	return append(buf, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (invalid UTF-8 becomes U+FFFD).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// UnmarshalJSON reads DynamoDB's JSON of an item; null leaves it nil.
func (it *Item) UnmarshalJSON(b []byte) error {
	d := decoder{data: b}
	if d.literal("null") {
		*it = nil
		return d.end()
	}
	m, err := d.item()
	if err != nil {
		return err
	}
	*it = Item(m)
	return d.end()
}

// UnmarshalValue reads DynamoDB's JSON of one attribute value.
func UnmarshalValue(b []byte) (AttributeValue, error) {
	d := decoder{data: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return v, d.end()
}
