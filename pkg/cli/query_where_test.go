package cli

import (
	"testing"
	"time"
)

// A value that ends in "?" is a comparison, not an exists test of a field
// named "subject=who".
func TestParseWhere_ValueEndingInQuestionMark(t *testing.T) {
	t.Parallel()
	f, err := parseWhere("subject=who?", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := f.GetCompare()
	if c == nil || c.GetField() != "subject" || c.GetValue().GetStringValue() != "who?" {
		t.Fatalf("parsed as %v, want subject = \"who?\"", f)
	}
}
