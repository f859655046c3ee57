package api

import "unicode/utf8"

// validJSON reports whether data is one JSON value in UTF-8 (RFC 8259). It
// is json.Valid without that function's per-byte state-machine calls, and
// stricter: json.Valid lets invalid UTF-8 inside strings through, which
// would store JSON that cannot be read back as a Value. Every appended
// binary_data labelled application/json passes through it.
func validJSON(data []byte) bool {
	v := jsonValidator{data: data}
	if !v.value(0) {
		return false
	}
	v.space()
	return v.pos == len(v.data)
}

// jsonValidator is a recursive-descent JSON checker that builds nothing.
type jsonValidator struct {
	data []byte
	pos  int
}

func (v *jsonValidator) space() {
	for v.pos < len(v.data) {
		switch v.data[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

func (v *jsonValidator) value(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	v.space()
	if v.pos >= len(v.data) {
		return false
	}
	switch c := v.data[v.pos]; {
	case c == '{':
		return v.object(depth)
	case c == '[':
		return v.array(depth)
	case c == '"':
		return v.string()
	case c == 't':
		return v.literal("true")
	case c == 'f':
		return v.literal("false")
	case c == 'n':
		return v.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return v.number()
	}
	return false
}

func (v *jsonValidator) literal(word string) bool {
	if len(v.data)-v.pos < len(word) || string(v.data[v.pos:v.pos+len(word)]) != word {
		return false
	}
	v.pos += len(word)
	return true
}

func (v *jsonValidator) object(depth int) bool {
	v.pos++
	v.space()
	if v.pos < len(v.data) && v.data[v.pos] == '}' {
		v.pos++
		return true
	}
	for {
		v.space()
		if v.pos >= len(v.data) || v.data[v.pos] != '"' || !v.string() {
			return false
		}
		v.space()
		if v.pos >= len(v.data) || v.data[v.pos] != ':' {
			return false
		}
		v.pos++
		if !v.value(depth + 1) {
			return false
		}
		v.space()
		if v.pos >= len(v.data) {
			return false
		}
		switch v.data[v.pos] {
		case ',':
			v.pos++
		case '}':
			v.pos++
			return true
		default:
			return false
		}
	}
}

func (v *jsonValidator) array(depth int) bool {
	v.pos++
	v.space()
	if v.pos < len(v.data) && v.data[v.pos] == ']' {
		v.pos++
		return true
	}
	for {
		if !v.value(depth + 1) {
			return false
		}
		v.space()
		if v.pos >= len(v.data) {
			return false
		}
		switch v.data[v.pos] {
		case ',':
			v.pos++
		case ']':
			v.pos++
			return true
		default:
			return false
		}
	}
}

func (v *jsonValidator) digits() int {
	n := 0
	for v.pos < len(v.data) && v.data[v.pos] >= '0' && v.data[v.pos] <= '9' {
		v.pos++
		n++
	}
	return n
}

func (v *jsonValidator) number() bool {
	if v.data[v.pos] == '-' {
		v.pos++
	}
	start := v.pos
	if n := v.digits(); n == 0 || (v.data[start] == '0' && n > 1) {
		return false
	}
	if v.pos < len(v.data) && v.data[v.pos] == '.' {
		v.pos++
		if v.digits() == 0 {
			return false
		}
	}
	if v.pos < len(v.data) && (v.data[v.pos] == 'e' || v.data[v.pos] == 'E') {
		v.pos++
		if v.pos < len(v.data) && (v.data[v.pos] == '+' || v.data[v.pos] == '-') {
			v.pos++
		}
		if v.digits() == 0 {
			return false
		}
	}
	return true
}

// string checks a string; v.data[v.pos] is the opening quote.
func (v *jsonValidator) string() bool {
	v.pos++
	for v.pos < len(v.data) {
		c := v.data[v.pos]
		switch {
		case c == '"':
			v.pos++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			v.pos++
			if v.pos >= len(v.data) {
				return false
			}
			switch v.data[v.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				v.pos++
			case 'u':
				if len(v.data)-v.pos < 5 {
					return false
				}
				for _, h := range v.data[v.pos+1 : v.pos+5] {
					if !(h >= '0' && h <= '9') && !(h|0x20 >= 'a' && h|0x20 <= 'f') {
						return false
					}
				}
				v.pos += 5
			default:
				return false
			}
		case c < utf8.RuneSelf:
			v.pos++
		default:
			r, size := utf8.DecodeRune(v.data[v.pos:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			v.pos += size
		}
	}
	return false
}
