package jsontext

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func BenchmarkParseJSON(b *testing.B) {
	data := []byte(`{"items":[{"qty":2,"sku":"a1"},{"qty":1,"sku":"b7"}],"ms":123.5,"ok":true,"org":"org-42","path":"/checkout/confirm","plan":"pro","user":"u12345"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseJSON checks the hand-written parser against protojson on any
// input: same acceptance for valid JSON, same value.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00 \u00e9"`, `-0.0e+10`, `[[[]]]`, `"\ud800"`, `01`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Parse(in)
		want := new(structpb.Value)
		werr := protojson.Unmarshal(in, want)
		if (err == nil) != (werr == nil) {
			// protojson also rejects lone surrogates and some inputs valid for
			// encoding/json; only valid JSON matters, which encoding/json judges.
			if err != nil && json.Valid(in) {
				t.Fatalf("Parse rejected valid JSON %q: %v", in, err)
			}
			return
		}
		if err == nil && !proto.Equal(got, want) {
			t.Fatalf("Parse(%q) = %v, protojson says %v", in, got, want)
		}
	})
}

// FuzzValidJSON checks Valid against encoding/json's json.Valid, which
// (unlike RFC 8259 and unlike Valid) lets invalid UTF-8 through.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00"`, `-0.0e+10`, `[[[]]]`, `01`, `{"a":1,}`, "\"\xff\"", `"\u00zz"`, ` true `, `1.`, `-`, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := Valid(in), json.Valid(in) && utf8.Valid(in); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", in, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	data := []byte(`{"user":"u12345","org":"org-42","plan":"pro","path":"/checkout/confirm","ms":123.5,"items":[{"sku":"a1","qty":2},{"sku":"b7","qty":1}],"ok":true,"note":"caf\u00e9 ✓"}`)
	b.Run("Valid", func(b *testing.B) {
		for b.Loop() {
			Valid(data)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			json.Valid(data)
		}
	})
}
