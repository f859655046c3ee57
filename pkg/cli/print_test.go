package cli

import (
	"testing"
	"time"
)

func TestFormatNumber_AsPeopleWriteThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {42, "42"}, {-7, "-7"}, {20000100000, "20000100000"}, {2.00001e10 + 0.25, "20000100000"},
		{1e15, "1000000000000000"}, {50.333333333, "50.3333"}, {0.5, "0.5"}, {1234567.891, "1234568"},
		{0.000123456789, "0.000123457"}, {1e-9, "1e-09"}, {1e21, "1e+21"}, {2.5e22, "2.5e+22"},
	} {
		if got := formatNumber(tc.in); got != tc.want {
			t.Errorf("formatNumber(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestFormatDuration_DaysAndNoTrailingZeros(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]string{
		720 * time.Hour: "30d", 90 * time.Minute: "1h30m", time.Hour: "1h", 36 * time.Hour: "36h", 1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %s, want %s", in, got, want)
		}
	}
}
