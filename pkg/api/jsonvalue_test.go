package api

import (
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestAppendJSON_MatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []string{
		`null`, `true`, `false`, `0`, `-0.5`, `1e21`, `1e-7`, `123456789`, `0.000001`, `"plain"`,
		`"quote \" backslash \\ newline \n tab \t ctl \u0001 del \u007f"`, `"ünïcødé ✓ \u2028 \u2029"`,
		`[]`, `{}`, `[1,"a",null,[true,{}]]`, `{"b":1,"a":{"d":[1,2],"c":"x"},"":"empty key"}`,
		`"<html> & 'amp'"`,
	}
	for _, in := range cases {
		v := new(structpb.Value)
		if err := protojson.Unmarshal([]byte(in), v); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		// encoding/json with sorted keys and no HTML escaping is the reference.
		var any any
		if err := json.Unmarshal([]byte(in), &any); err != nil {
			t.Fatal(err)
		}
		want := mustMarshalNoHTML(t, any)
		if string(got) != want {
			t.Errorf("appendJSON(%s) = %s, want %s", in, got, want)
		}
		back, err := parseJSON(got)
		if err != nil || !proto.Equal(back, v) {
			t.Errorf("%s does not round-trip: %v %v", in, back, err)
		}
	}
}

func TestAppendJSON_RejectsNonFinite(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		v := structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(f)}})
		if _, err := appendJSON(nil, v); err == nil {
			t.Errorf("appendJSON accepted %v", f)
		}
	}
}

func TestAppendJSON_InvalidUTF8BecomesReplacement(t *testing.T) {
	t.Parallel()
	got, err := appendJSON(nil, structpb.NewStringValue("a\xffb"))
	if err != nil || string(got) != `"a\ufffdb"` || !json.Valid(got) {
		t.Fatalf("got %s %v", got, err)
	}
}

// FuzzAppendJSON checks that any JSON a client can send is stored as valid
// JSON that reads back as the same value.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u0000"`, `1.5e300`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v := new(structpb.Value)
		if err := protojson.Unmarshal(in, v); err != nil {
			return
		}
		out, err := appendJSON(nil, v)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("appendJSON(%q) = %q is not valid JSON", in, out)
		}
		back, err := parseJSON(out)
		if err != nil {
			t.Fatalf("parse %q: %v", out, err)
		}
		if !proto.Equal(back, v) {
			t.Fatalf("%q does not round-trip through %q", in, out)
		}
	})
}

func mustMarshalNoHTML(t *testing.T, v any) string {
	t.Helper()
	b, err := marshalNoHTML(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalNoHTML(v any) (string, error) {
	var buf []byte
	w := &byteWriter{b: &buf}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(buf[:len(buf)-1]), nil
}

type byteWriter struct{ b *[]byte }

func (w *byteWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

func BenchmarkAppendJSON(b *testing.B) {
	v := new(structpb.Value)
	_ = protojson.Unmarshal([]byte(`{"user":"u12345","org":"org-42","plan":"pro","path":"/checkout/confirm","ms":123.5,"items":[{"sku":"a1","qty":2},{"sku":"b7","qty":1}],"ok":true}`), v)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendJSON(buf[:0], v)
	}
}

func BenchmarkParseJSON(b *testing.B) {
	data := []byte(`{"items":[{"qty":2,"sku":"a1"},{"qty":1,"sku":"b7"}],"ms":123.5,"ok":true,"org":"org-42","path":"/checkout/confirm","plan":"pro","user":"u12345"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseJSON(data); err != nil {
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
		got, err := parseJSON(in)
		want := new(structpb.Value)
		werr := protojson.Unmarshal(in, want)
		if (err == nil) != (werr == nil) {
			// protojson also rejects lone surrogates and some inputs valid for
			// encoding/json; only valid JSON matters, which encoding/json judges.
			if err != nil && json.Valid(in) {
				t.Fatalf("parseJSON rejected valid JSON %q: %v", in, err)
			}
			return
		}
		if err == nil && !proto.Equal(got, want) {
			t.Fatalf("parseJSON(%q) = %v, protojson says %v", in, got, want)
		}
	})
}

// FuzzValidJSON checks validJSON against encoding/json's json.Valid, which
// (unlike RFC 8259 and unlike validJSON) lets invalid UTF-8 through.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00"`, `-0.0e+10`, `[[[]]]`, `01`, `{"a":1,}`, "\"\xff\"", `"\u00zz"`, ` true `, `1.`, `-`, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := validJSON(in), json.Valid(in) && utf8.Valid(in); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", in, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	data := []byte(`{"user":"u12345","org":"org-42","plan":"pro","path":"/checkout/confirm","ms":123.5,"items":[{"sku":"a1","qty":2},{"sku":"b7","qty":1}],"ok":true,"note":"caf\u00e9 ✓"}`)
	b.Run("validJSON", func(b *testing.B) {
		for b.Loop() {
			validJSON(data)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			json.Valid(data)
		}
	})
}
