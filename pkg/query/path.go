package query

import (
	"fmt"
	"strconv"
	"strings"
)

// pathStep is one step of a JSON path: an object key or an array index.
type pathStep struct {
	key   string
	index int // when isIndex
	isIdx bool
}

// maxPathSteps bounds the steps of a JSON path. Reading a path costs a
// pass over the value found so far at each index (and at each name of
// digits only, or empty): $[0][0]… over a deeply nested document would
// read it once per step, so the cost of a path is bounded by a fixed
// number of passes over the row's text.
const maxPathSteps = 32

// parsePath parses a JSON path of the form $.a.b, $.a[2], $["a.b"]: member
// names with dots, brackets with an index or a quoted name, at most
// maxPathSteps of them. A name in double quotes is a Go/JSON string
// literal; in single quotes it is taken as written except that \' stands
// for ' and \\ for \. Wildcards, filters and recursive descent are not
// supported.
func parsePath(s string) ([]pathStep, error) {
	bad := func(why string) ([]pathStep, error) {
		return nil, fmt.Errorf("JSON path %q: %s (want $.a.b, $.a[0] or $[\"a.b\"])", s, why)
	}
	if !strings.HasPrefix(s, "$") {
		return bad("it must start with $")
	}
	rest := s[1:]
	var steps []pathStep
	for rest != "" {
		if len(steps) == maxPathSteps {
			return bad(fmt.Sprintf("more than %d steps", maxPathSteps))
		}
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if name == "" || name == "*" {
				return bad("empty or wildcard member name")
			}
			steps = append(steps, pathStep{key: name})
			rest = rest[end:]
		case '[':
			if len(rest) > 1 && (rest[1] == '"' || rest[1] == '\'') {
				// A quoted name may hold ']' and escaped quotes: find
				// the closing quote before the closing bracket.
				q := quotedLen(rest[1:])
				if q < 0 || 1+q >= len(rest) || rest[1+q] != ']' {
					return bad("unclosed quoted name")
				}
				inner := rest[1 : 1+q]
				var name string
				if inner[0] == '"' {
					var err error
					if name, err = strconv.Unquote(inner); err != nil {
						return bad("bad quoted name")
					}
				} else {
					name = unquoteSingle(inner[1 : len(inner)-1])
				}
				steps = append(steps, pathStep{key: name})
				rest = rest[1+q+1:]
				continue
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return bad("unclosed [")
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return bad("an index must be a non-negative integer")
			}
			steps = append(steps, pathStep{index: n, isIdx: true})
			rest = rest[end+1:]
		default:
			return bad(fmt.Sprintf("unexpected %q", rest[0]))
		}
	}
	if len(steps) == 0 {
		return bad("it names no member")
	}
	return steps, nil
}

// quotedLen is the length of the quoted string s starts with, quotes
// included, a backslash escaping the character after it; -1 if the closing
// quote is missing.
func quotedLen(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case s[0]:
			return i + 1
		}
	}
	return -1
}

// unquoteSingle reads the text inside single quotes: \' stands for ' and
// \\ for \; any other backslash is itself.
func unquoteSingle(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
