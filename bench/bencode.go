package bench

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

// Bencode encodes v (string, []byte, int, int64, []any, []string or map[string]any) the way the
// rtpengine ng protocol expects: dictionaries with sorted keys.
func Bencode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := bencodeTo(&b, v); err != nil {
		return nil, err
	}

	return b.Bytes(), nil
}

func bencodeTo(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteByte(':')
		b.WriteString(x)
	case []byte:
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteByte(':')
		b.Write(x)
	case int:
		fmt.Fprintf(b, "i%de", x)
	case int64:
		fmt.Fprintf(b, "i%de", x)
	case []string:
		b.WriteByte('l')
		for _, s := range x {
			_ = bencodeTo(b, s)
		}
		b.WriteByte('e')
	case []any:
		b.WriteByte('l')
		for _, e := range x {
			if err := bencodeTo(b, e); err != nil {
				return err
			}
		}
		b.WriteByte('e')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('d')
		for _, k := range keys {
			_ = bencodeTo(b, k)
			if err := bencodeTo(b, x[k]); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		b.WriteByte('e')
	default:
		return fmt.Errorf("%w: cannot encode %T", ErrBencode, v)
	}

	return nil
}

// Bdecode decodes one bencoded value: strings come back as string, integers as int64, lists as
// []any and dictionaries as map[string]any. Trailing bytes are an error.
func Bdecode(data []byte) (any, error) {
	v, rest, err := bdecode(data, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBencode, len(rest))
	}

	return v, nil
}

const maxBencodeDepth = 32

func bdecode(d []byte, depth int) (any, []byte, error) {
	if depth > maxBencodeDepth {
		return nil, nil, fmt.Errorf("%w: nested too deeply", ErrBencode)
	}
	if len(d) == 0 {
		return nil, nil, fmt.Errorf("%w: unexpected end", ErrBencode)
	}
	switch c := d[0]; {
	case c == 'i':
		end := bytes.IndexByte(d, 'e')
		if end < 0 {
			return nil, nil, fmt.Errorf("%w: unterminated integer", ErrBencode)
		}
		n, err := strconv.ParseInt(string(d[1:end]), 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: integer %q", ErrBencode, d[1:end])
		}
		return n, d[end+1:], nil
	case c == 'l':
		list := []any{}
		d = d[1:]
		for len(d) > 0 && d[0] != 'e' {
			v, rest, err := bdecode(d, depth+1)
			if err != nil {
				return nil, nil, err
			}
			list, d = append(list, v), rest
		}
		if len(d) == 0 {
			return nil, nil, fmt.Errorf("%w: unterminated list", ErrBencode)
		}
		return list, d[1:], nil
	case c == 'd':
		m := map[string]any{}
		d = d[1:]
		for len(d) > 0 && d[0] != 'e' {
			k, rest, err := bdecode(d, depth+1)
			if err != nil {
				return nil, nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, nil, fmt.Errorf("%w: dictionary key is %T", ErrBencode, k)
			}
			v, rest, err := bdecode(rest, depth+1)
			if err != nil {
				return nil, nil, err
			}
			m[ks], d = v, rest
		}
		if len(d) == 0 {
			return nil, nil, fmt.Errorf("%w: unterminated dictionary", ErrBencode)
		}
		return m, d[1:], nil
	case c >= '0' && c <= '9':
		colon := bytes.IndexByte(d, ':')
		if colon < 0 {
			return nil, nil, fmt.Errorf("%w: string without length", ErrBencode)
		}
		n, err := strconv.Atoi(string(d[:colon]))
		if err != nil || n < 0 || colon+1+n > len(d) {
			return nil, nil, fmt.Errorf("%w: bad string length %q", ErrBencode, d[:colon])
		}
		return string(d[colon+1 : colon+1+n]), d[colon+1+n:], nil
	default:
		return nil, nil, fmt.Errorf("%w: unexpected byte %q", ErrBencode, c)
	}
}
