package query

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// foldNeedle is the needle of a case-insensitive Contains.
//
// Matching uses Unicode simple case folding, as strings.EqualFold does: a
// rune matches every rune of its folding orbit (k, K and the Kelvin sign
// U+212A; s, S and the long s ſ; σ, ς and Σ), one rune for one rune.
// Full case folding, which maps one rune to several, is not done, so
// "straße" does not contain "STRASSE" (ß folds only with ẞ, U+1E9E), but
// "STRAẞE" does contain "straße". Haystack bytes that are not valid UTF-8
// read as U+FFFD.
//
// The ASCII path: the only runes outside ASCII that fold onto ASCII are ſ
// (onto s) and the Kelvin sign (onto k), and bytes of ASCII never occur
// inside the encoding of other runes. So for an ASCII needle without s or
// k, or an ASCII haystack, a byte-wise search that folds A-Z onto a-z is
// exact. Any other case compares rune by rune against the orbits of the
// needle's runes.
type foldNeedle struct {
	// lower is the needle with A-Z in lower case, for the ASCII path.
	lower string
	// ascii: the needle is ASCII; ks: it holds s or k in either case.
	ascii, ks bool
	// orbits lists, for each rune of the needle, the runes it matches.
	orbits [][]rune
}

// newFoldNeedle prepares s (not empty) for case-insensitive searches.
func newFoldNeedle(s string) *foldNeedle {
	n := &foldNeedle{ascii: true}
	lower := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := asciiLower[s[i]]
		lower[i] = c
		if c >= utf8.RuneSelf {
			n.ascii = false
		}
		if c == 's' || c == 'k' {
			n.ks = true
		}
	}
	n.lower = string(lower)
	for _, r := range s {
		orbit := []rune{r}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			orbit = append(orbit, f)
		}
		n.orbits = append(n.orbits, orbit)
	}
	return n
}

// in reports whether h contains the needle, ignoring case.
func (n *foldNeedle) in(h string) bool {
	if n.ascii && (!n.ks || isASCII(h)) {
		return asciiContainsFold(h, n.lower)
	}
	return n.runeContains(h)
}

// asciiLower maps A-Z to a-z and every other byte to itself.
var asciiLower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// isASCII reports whether s is ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiContainsFold reports whether h contains needle (not empty, A-Z
// already lowered), folding A-Z in h onto a-z.
func asciiContainsFold(h, needle string) bool {
	n := len(needle)
	c0 := needle[0]
	c0u := c0
	if 'a' <= c0 && c0 <= 'z' {
		c0u = c0 - ('a' - 'A')
	}
	rest := needle[1:]
	for i, last := 0, len(h)-n; i <= last; i++ {
		if c := h[i]; c != c0 && c != c0u {
			continue
		}
		j := 0
		for j < len(rest) && asciiLower[h[i+1+j]] == rest[j] {
			j++
		}
		if j == len(rest) {
			return true
		}
	}
	return false
}

// runeContains searches h rune by rune.
func (n *foldNeedle) runeContains(h string) bool {
	first := n.orbits[0]
	for i := 0; len(h)-i >= len(n.orbits); {
		r, w := rune(h[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(h[i:])
		}
		if slices.Contains(first, r) && n.matchRest(h[i+w:]) {
			return true
		}
		i += w
	}
	return false
}

// matchRest reports whether h starts with the needle's runes after the first.
func (n *foldNeedle) matchRest(h string) bool {
	for _, orbit := range n.orbits[1:] {
		if h == "" {
			return false
		}
		r, w := rune(h[0]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(h)
		}
		if !slices.Contains(orbit, r) {
			return false
		}
		h = h[w:]
	}
	return true
}
