package api

import "encoding/base64"

// namePage is one page of a listing in name order (ListStreams,
// ListProjects). Its page token is the base64 of the last name of the
// previous page.
type namePage struct {
	after string
	size  int
}

// pageOf reads a List request's page token and page size (0: defaultPageSize).
func pageOf(token string, size uint32) (namePage, error) {
	after, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return namePage{}, fieldViolation(fieldPath("page_token"), "page_token.valid", "page_token is not a token this server returned")
	}
	p := namePage{after: string(after), size: int(size)}
	if p.size == 0 {
		p.size = defaultPageSize
	}
	return p, nil
}

// limit is what to ask the store for: one more than a page, to know
// whether another page follows.
func (p namePage) limit() int { return p.size + 1 }

// cut keeps the page of items (in name order, at most limit of them) and
// returns the token of the next page, "" on the last.
func cut[T any](p namePage, items []T, name func(T) string) ([]T, string) {
	if len(items) <= p.size {
		return items, ""
	}
	items = items[:p.size]
	return items, base64.RawURLEncoding.EncodeToString([]byte(name(items[p.size-1])))
}
