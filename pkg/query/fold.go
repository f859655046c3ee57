package query

import (
	"slices"
	"strings"
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
// read as U+FFFD, decoding from the start of the haystack.
//
// The search is Knuth-Morris-Pratt over runes: orbits are equivalence
// classes, so "haystack rune r matches needle rune j" is "r is in j's
// orbit", and the failure table is computed once over the needle's
// classes. Each haystack rune is read once, and each mismatch gives back
// at most what earlier matches took, so a search costs at most two rune
// comparisons per haystack rune whatever the needle (the quadratic
// search it replaced compared the needle again at every offset).
//
// Between partial matches the search jumps with strings.IndexByte to the
// next byte that can start the needle's first rune (each first byte of an
// encoding of a rune of its orbit). Such a byte is ASCII or a UTF-8 lead
// byte, never a continuation byte, so it is also where decoding from the
// start of the haystack puts a rune boundary. The jump is off when the
// first rune is U+FFFD, which invalid bytes of any value read as.
type foldNeedle struct {
	// keys[j] is the ASCII member, A-Z lowered, of the orbit of the
	// needle's rune j, or noASCII: an ASCII haystack byte c matches rune
	// j when asciiLower[c] == keys[j].
	keys []byte
	// orbits[j] lists the runes that rune j matches, for the haystack's
	// runes outside ASCII.
	orbits [][]rune
	// fail[j] is the length of the longest proper prefix of the needle's
	// first j+1 runes that is also their suffix, comparing classes.
	fail []int32
	// starts are the bytes a match can begin with; nil: any byte.
	starts []byte
	// isStart[c] says whether c is in starts.
	isStart [256]bool
}

// noASCII is the key of an orbit without ASCII runes: asciiLower maps no
// ASCII byte onto it.
const noASCII = utf8.RuneSelf

// newFoldNeedle prepares s (not empty) for case-insensitive searches.
func newFoldNeedle(s string) *foldNeedle {
	n := &foldNeedle{}
	var class []rune // the least rune of each needle rune's orbit
	for _, r := range s {
		orbit := foldOrbit(r)
		key := byte(noASCII)
		for _, o := range orbit {
			if o < utf8.RuneSelf {
				key = asciiLower[o]
			}
		}
		n.keys = append(n.keys, key)
		n.orbits = append(n.orbits, orbit)
		class = append(class, slices.Min(orbit))
	}
	n.fail = make([]int32, len(class))
	for j, k := 1, int32(0); j < len(class); j++ {
		for k > 0 && class[j] != class[k] {
			k = n.fail[k-1]
		}
		if class[j] == class[k] {
			k++
		}
		n.fail[j] = k
	}
	if first := n.orbits[0]; !slices.Contains(first, utf8.RuneError) {
		for _, r := range first {
			b := utf8.AppendRune(nil, r)[0]
			if !slices.Contains(n.starts, b) {
				n.starts = append(n.starts, b)
			}
		}
	}
	if len(n.starts) > maxStarts {
		n.starts = nil // no orbit is that large (a test checks), but be safe
	}
	for _, c := range n.starts {
		n.isStart[c] = true
	}
	return n
}

// maxStarts is the most start bytes a search jumps to.
const maxStarts = 4

// foldOrbit lists r and the runes that fold with it.
func foldOrbit(r rune) []rune {
	orbit := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		orbit = append(orbit, f)
	}
	return orbit
}

// in reports whether h contains the needle, ignoring case.
func (n *foldNeedle) in(h string) bool {
	found, _ := n.search(h)
	return found
}

// search reports whether h contains the needle, and how many times a
// mismatch fell back to a shorter partial match: a search compares each
// rune of h once, and once more per fallback; there are at most as many
// fallbacks as runes of h (a test checks).
func (n *foldNeedle) search(h string) (found bool, fallbacks int) {
	var next [maxStarts]int // for jump: 1 + the next offset of each start byte, 0 if not known
	j := 0                  // runes of the needle matched so far
	for i := 0; i < len(h); {
		if j == 0 {
			if len(h)-i < len(n.keys) {
				return false, fallbacks // each rune takes at least a byte
			}
			if i = n.jump(h, i, &next); i == len(h) {
				return false, fallbacks
			}
		}
		if c := h[i]; c < utf8.RuneSelf {
			lc := asciiLower[c]
			for {
				if n.keys[j] == lc {
					j++
					break
				}
				if j == 0 {
					break
				}
				j = int(n.fail[j-1])
				fallbacks++
			}
			i++
		} else {
			r, w := utf8.DecodeRuneInString(h[i:])
			for {
				if slices.Contains(n.orbits[j], r) {
					j++
					break
				}
				if j == 0 {
					break
				}
				j = int(n.fail[j-1])
				fallbacks++
			}
			i += w
		}
		if j == len(n.keys) {
			return true, fallbacks
		}
	}
	return false, fallbacks
}

// jump returns the first offset from i at which the needle's first rune
// can begin (len(h) if none), or i when any byte can begin it. next
// remembers where each start byte occurs next, so that every byte of h is
// read by at most one IndexByte per start byte in a whole search. The
// last few bytes are looked at one by one: for them, or for a short
// string, a call of IndexByte per start byte costs more.
func (n *foldNeedle) jump(h string, i int, next *[maxStarts]int) int {
	if n.starts == nil {
		return i
	}
	if len(h)-i <= jumpLoop {
		for ; i < len(h); i++ {
			if n.isStart[h[i]] {
				return i
			}
		}
		return i
	}
	at := len(h)
	for k, b := range n.starts {
		if next[k] <= i { // not known, or before i
			next[k] = 1 + len(h)
			if d := strings.IndexByte(h[i:], b); d >= 0 {
				next[k] = 1 + i + d
			}
		}
		at = min(at, next[k]-1)
	}
	return at
}

// jumpLoop is the most bytes jump looks at one by one.
const jumpLoop = 16

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
