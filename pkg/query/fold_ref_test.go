package query

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// refContainsFold is the case-insensitive Contains as it was first
// written, kept as the slow reference the linear search is checked
// against: at every rune of h (decoded from the start, invalid bytes as
// U+FFFD), try to match each rune of needle against the simple folding
// orbit of the needle's rune there. It costs len(h) x len(needle).
func refContainsFold(h, needle string) bool {
	var orbits [][]rune
	for _, r := range needle {
		orbit := []rune{r}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			orbit = append(orbit, f)
		}
		orbits = append(orbits, orbit)
	}
	for i := 0; len(h)-i >= len(orbits); {
		rest, ok := h[i:], true
		for _, orbit := range orbits {
			if rest == "" {
				ok = false
				break
			}
			r, w := utf8.DecodeRuneInString(rest)
			if !slices.Contains(orbit, r) {
				ok = false
				break
			}
			rest = rest[w:]
		}
		if ok {
			return true
		}
		_, w := utf8.DecodeRuneInString(h[i:])
		i += w
	}
	return false
}
