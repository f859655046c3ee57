package api

import (
	"encoding/json"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/silt-io/silt/pkg/api/internal/jsontext"
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
		back, err := jsontext.Parse(got)
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
		back, err := jsontext.Parse(out)
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
