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

// TestFoldNeedle_OnlyTwoRunesFoldIntoASCII guards the ASCII path's premise.
func TestFoldNeedle_OnlyTwoRunesFoldIntoASCII(t *testing.T) {
	t.Parallel()
	var got []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				got = append(got, r)
				break
			}
		}
	}
	if !slices.Equal(got, []rune{'ſ', '\u212A'}) {
		t.Errorf("runes outside ASCII folding into it: %q, want ſ and the Kelvin sign", got)
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
	}
}
