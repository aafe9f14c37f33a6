package dynamodb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoder reads DynamoDB's JSON of items and attribute values in one pass
// straight into their member types: about half the time and memory of
// decoding them with encoding/json into an intermediate shape first.
// Strings without escapes are taken as they are; those with escapes or
// invalid UTF-8 are unquoted by encoding/json (which makes the invalid
// bytes U+FFFD, as the writer does).
type decoder struct {
	data []byte
	pos  int
}

var errSyntax = errors.New("dynamodb: malformed attribute value JSON")

func (d *decoder) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, d.pos)
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, taking
// it if so.
func (d *decoder) next(c byte) bool {
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) expect(c byte) error {
	if !d.next(c) {
		return d.fail(fmt.Sprintf("want %q", c))
	}
	return nil
}

// literal takes the word w (true, false, null) if it comes next.
func (d *decoder) literal(w string) bool {
	d.space()
	if strings.HasPrefix(string(d.data[d.pos:min(d.pos+len(w), len(d.data))]), w) {
		d.pos += len(w)
		return true
	}
	return false
}

// end checks that nothing but white space is left.
func (d *decoder) end() error {
	d.space()
	if d.pos != len(d.data) {
		return d.fail("trailing data")
	}
	return nil
}

func (d *decoder) str() (string, error) {
	d.space()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.fail("want a string")
	}
	start := d.pos
	escaped, ascii := false, true
	for i := start + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '\\':
			escaped = true
			i++
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '"':
			d.pos = i + 1
			if !escaped && (ascii || utf8.Valid(d.data[start+1:i])) {
				return string(d.data[start+1 : i]), nil
			}
			var s string
			if err := json.Unmarshal(d.data[start:i+1], &s); err != nil {
				return "", fmt.Errorf("%w: %w", errSyntax, err)
			}
			return s, nil
		case c < 0x20:
			d.pos = i
			return "", d.fail("control character in a string")
		}
	}
	return "", d.fail("unterminated string")
}

func (d *decoder) bytes() ([]byte, error) {
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: binary: %w", errSyntax, err)
	}
	return b, nil
}

func (d *decoder) strs() ([]string, error) {
	if err := d.expect('['); err != nil {
		return nil, err
	}
	out := []string{}
	if d.next(']') {
		return out, nil
	}
	for {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if d.next(']') {
			return out, nil
		}
		if err := d.expect(','); err != nil {
			return nil, err
		}
	}
}

// item reads {"name": value, …}.
func (d *decoder) item() (M, error) {
	if err := d.expect('{'); err != nil {
		return nil, err
	}
	m := M{}
	if d.next('}') {
		return m, nil
	}
	for {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.expect(':'); err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, fmt.Errorf("%w (attribute %q)", err, k)
		}
		m[k] = v
		if d.next('}') {
			return m, nil
		}
		if err := d.expect(','); err != nil {
			return nil, err
		}
	}
}

// value reads {"T": …} for a member type T.
func (d *decoder) value() (AttributeValue, error) {
	if err := d.expect('{'); err != nil {
		return nil, err
	}
	if d.next('}') {
		return nil, errNoMember
	}
	tag, err := d.str()
	if err != nil {
		return nil, err
	}
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	var v AttributeValue
	switch tag {
	case "S", "N":
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if tag == "S" {
			v = S(s)
		} else {
			v = N(s)
		}
	case "B":
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		v = B(b)
	case "BOOL", "NULL":
		var b bool
		switch {
		case d.literal("true"):
			b = true
		case d.literal("false"):
		default:
			return nil, d.fail("want true or false")
		}
		if tag == "BOOL" {
			v = BOOL(b)
		} else {
			v = NULL(b)
		}
	case "L":
		if err := d.expect('['); err != nil {
			return nil, err
		}
		l := L{}
		if !d.next(']') {
			for {
				e, err := d.value()
				if err != nil {
					return nil, err
				}
				l = append(l, e)
				if d.next(']') {
					break
				}
				if err := d.expect(','); err != nil {
					return nil, err
				}
			}
		}
		v = l
	case "M":
		m, err := d.item()
		if err != nil {
			return nil, err
		}
		v = m
	case "SS", "NS":
		ss, err := d.strs()
		if err != nil {
			return nil, err
		}
		if tag == "SS" {
			v = SS(ss)
		} else {
			v = NS(ss)
		}
	case "BS":
		ss, err := d.strs()
		if err != nil {
			return nil, err
		}
		bs := make(BS, len(ss))
		for i, s := range ss {
			if bs[i], err = base64.StdEncoding.DecodeString(s); err != nil {
				return nil, fmt.Errorf("%w: binary set: %w", errSyntax, err)
			}
		}
		v = bs
	default:
		return nil, fmt.Errorf("%w: %q", errNoMember, tag)
	}
	if !d.next('}') {
		return nil, d.fail("an attribute value with more than one member")
	}
	return v, nil
}
