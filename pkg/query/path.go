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

// parsePath parses a JSON path of the form $.a.b, $.a[2], $["a.b"]: member
// names with dots, brackets with an index or a quoted name. Wildcards,
// filters and recursive descent are not supported.
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
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return bad("unclosed [")
			}
			inner := rest[1:end]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') && inner[len(inner)-1] == inner[0] {
				name := inner[1 : len(inner)-1]
				if inner[0] == '"' {
					var err error
					if name, err = strconv.Unquote(inner); err != nil {
						return bad("bad quoted name")
					}
				}
				steps = append(steps, pathStep{key: name})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return bad("an index must be a non-negative integer")
				}
				steps = append(steps, pathStep{index: n, isIdx: true})
			}
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
