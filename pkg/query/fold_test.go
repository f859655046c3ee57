package query

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldNeedle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h, needle string
		want      bool
	}{
		{"Hello World", "WORLD", true},
		{"Hello World", "o w", true},
		{"Hello World", "worlds", false},
		{"abc", "abcd", false},
		{"", "a", false},
		{"xxABCxx", "abc", true},
		{"a@b[c", "@B[", true}, // non-letters match themselves only
		{"a`b", "@", false},    // '`' and '@' are 0x20 away from letters, not letters
		{"straße", "STRASSE", false},
		{"STRASSE", "straße", false},
		{"STRAẞE", "straße", true},
		{"straße", "STRAẞE", true},
		{"Kelvin 5\u212A", "5k", true}, // the Kelvin sign
		{"Kelvin 5k", "5\u212A", true},
		{"mask", "MAS\u212A", true},
		{"5k", "5K", true},
		{"mask", "MASK", true}, // ASCII needle with k and s, ASCII haystack
		{"maſk", "MASK", true}, // the long s
		{"maſK", "mask", true},
		{"maſK é", "mask", true},
		{"ΣΟΦΊΑ", "σοφία", true},
		{"ὈΔΥΣΣΕΎΣ", "ὀδυσσεύς", true},  // final sigma
		{"İstanbul", "istanbul", false}, // dotted capital I has no simple fold onto i
		{"ﬀ", "ff", false},              // no full folding of ligatures
		{"é", "É", true},
		{"e\u0301", "É", false}, // e + combining accent is two runes
		{"e\u0301", "E\u0301", true},
		{"a\xffb", "A\xFFB", true},
		{"a\xffb", "a\uFFFDb", true}, // invalid bytes read as U+FFFD
		{"日本語テキスト", "テキ", true},
		{"naïve café", "CAFÉ", true},
		{"naïve café", "NAIVE", false},
	} {
		n := newFoldNeedle(tc.needle)
		if got := n.in(tc.h); got != tc.want {
			t.Errorf("%q contains/i %q = %v, want %v", tc.h, tc.needle, got, tc.want)
		}
	}
}

// TestFoldOrbit_Premises guards what foldNeedle assumes of the orbits:
// the ASCII runes of an orbit are one letter in its two cases (so that
// foldRune.ascii is one byte), the only runes outside ASCII that fold onto
// ASCII are ſ and the Kelvin sign, and no orbit has more runes than a
// search has start bytes to jump to.
func TestFoldOrbit_Premises(t *testing.T) {
	t.Parallel()
	var intoASCII []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		orbit := foldOrbit(r)
		if len(orbit) > maxStarts {
			t.Errorf("%q folds with %d runes, more than maxStarts", r, len(orbit))
		}
		var ascii []byte
		for _, o := range orbit {
			if o < utf8.RuneSelf && !slices.Contains(ascii, asciiLower[o]) {
				ascii = append(ascii, asciiLower[o])
			}
		}
		if len(ascii) > 1 {
			t.Errorf("%q folds onto the ASCII %q", r, ascii)
		}
		if r >= utf8.RuneSelf && len(ascii) > 0 {
			intoASCII = append(intoASCII, r)
		}
	}
	if !slices.Equal(intoASCII, []rune{'ſ', '\u212A'}) {
		t.Errorf("runes outside ASCII folding into it: %q, want ſ and the Kelvin sign", intoASCII)
	}
}

// TestFoldNeedle_Random compares the matcher with folding both strings
// rune by rune, over strings drawn from an alphabet of folding traps.
func TestFoldNeedle_Random(t *testing.T) {
	t.Parallel()
	alphabet := []rune("aAbBkKsSzZ@[`{ 0ſ\u212AßẞσςΣéÉİıi\uFFFD日")
	rng := rand.New(rand.NewPCG(1, 2))
	str := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 50000 {
		h := str(rng.IntN(12))
		var needle string
		if h != "" && rng.IntN(2) == 0 {
			// A piece of h, recased.
			rs := []rune(h)
			i := rng.IntN(len(rs))
			j := i + 1 + rng.IntN(len(rs)-i)
			needle = string(rs[i:j])
			switch rng.IntN(3) {
			case 0:
				needle = strings.ToUpper(needle)
			case 1:
				needle = strings.ToLower(needle)
			}
		} else {
			needle = str(1 + rng.IntN(3))
		}
		if needle == "" {
			continue
		}
		want := strings.Contains(refFold(h), refFold(needle))
		if got := newFoldNeedle(needle).in(h); got != want {
			t.Fatalf("%q contains/i %q = %v, want %v", h, needle, got, want)
		}
		if old := refContainsFold(h, needle); old != want {
			t.Fatalf("%q contains/i %q: the reference search says %v, folding says %v", h, needle, old, want)
		}
	}
}

// TestFoldNeedle_In_MatchesReference compares the search with the
// quadratic one it replaced (refContainsFold) over haystacks with invalid
// UTF-8 and needles with repeats, which exercise the failure table: small
// alphabets of folding traps, needles cut from the haystack and recased.
func TestFoldNeedle_In_MatchesReference(t *testing.T) {
	t.Parallel()
	alphabets := []string{
		"aA", "aAb", "sSſ", "kK\u212A", "σςΣ", "ßẞs", "a\xff\xe2\x84\uFFFD", "aé\xc3É",
		"aAbBkKsSzZ@[`{ 0ſ\u212AßẞσςΣéÉİıi\uFFFD日\xff\x80\xe2",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, alpha := range alphabets {
		// Units of the alphabet: its runes, and its invalid bytes alone.
		var units []string
		for i, w := 0, 0; i < len(alpha); i += w {
			_, w = utf8.DecodeRuneInString(alpha[i:])
			units = append(units, alpha[i:i+w])
		}
		str := func(n int) string {
			var b strings.Builder
			for range n {
				b.WriteString(units[rng.IntN(len(units))])
			}
			return b.String()
		}
		for range 20000 {
			h := str(rng.IntN(40))
			var needle string
			switch rng.IntN(3) {
			case 0:
				if len(h) > 0 {
					i := rng.IntN(len(h))
					needle = h[i : i+1+rng.IntN(len(h)-i)] // bytes, may cut a rune
				}
			case 1:
				needle = strings.ToUpper(str(1 + rng.IntN(6)))
			}
			if needle == "" {
				needle = str(1 + rng.IntN(6))
			}
			want := refContainsFold(h, needle)
			if got := newFoldNeedle(needle).in(h); got != want {
				t.Fatalf("%q contains/i %q = %v, want %v", h, needle, got, want)
			}
		}
	}
}

// TestFoldNeedle_Search_Linear counts the rune comparisons of searches
// that cost the quadratic search a needle's length at every offset: one
// per haystack rune and one per fallback, and there are no more fallbacks
// than haystack runes, whatever the needle's length.
func TestFoldNeedle_Search_Linear(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	for _, tc := range []struct {
		name, h, needle string
	}{
		{"one letter", strings.Repeat("a", size), strings.Repeat("A", 4095) + "B"},
		{"kelvin", strings.Repeat("k\u212AK", size/5), strings.Repeat("\u212A", 2000) + "x"},
		{"period", strings.Repeat("abcab", size/5), strings.Repeat("ABCAB", 800) + "C"},
		{"sigma", strings.Repeat("σς", size/4), strings.Repeat("Σ", 2000) + "a"},
		{"invalid", strings.Repeat("\xff", size), strings.Repeat("\uFFFD", 2000) + "a"},
		{"ascii needle, rune haystack", strings.Repeat("ſ", size/2), strings.Repeat("S", 4095) + "T"},
	} {
		found, fallbacks := newFoldNeedle(tc.needle).search(tc.h)
		runes := utf8.RuneCountInString(tc.h)
		if found {
			t.Errorf("%s: found", tc.name)
		}
		if fallbacks > runes {
			t.Errorf("%s: %d fallbacks over %d runes", tc.name, fallbacks, runes)
		}
		t.Logf("%s: at most %d comparisons over %d runes (a %d-rune needle)", tc.name, runes+fallbacks, runes, utf8.RuneCountInString(tc.needle))
	}
}

// FuzzFoldNeedle_In compares the search with the quadratic reference.
func FuzzFoldNeedle_In(f *testing.F) {
	for _, s := range [][2]string{
		{"STRAẞE", "straße"}, {"straße", "STRASSE"}, {"Kelvin 5\u212A", "5k"}, {"maſK", "mask"},
		{"a\xffb", "a\uFFFDb"}, {"aaaaaaab", "AAAB"}, {"abababc", "ABABC"}, {"\xe2\x84", "\u212A"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, h, needle string) {
		if needle == "" {
			return
		}
		want := refContainsFold(h, needle)
		if got := newFoldNeedle(needle).in(h); got != want {
			t.Fatalf("%q contains/i %q = %v, want %v", h, needle, got, want)
		}
	})
}
