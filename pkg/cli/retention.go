package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/silt-io/silt/pkg/tiered"
)

// projectRetention is the repeatable --project-retention flag:
// NAME=MAX_AGE[,MAX_BYTES], e.g. acme=720h or acme=0,10737418240.
type projectRetention map[string]tiered.Retention

func (p projectRetention) String() string {
	var out []string
	for name, r := range p {
		out = append(out, fmt.Sprintf("%s=%s,%d", name, r.MaxAge, r.MaxBytes))
	}
	return strings.Join(out, " ")
}

func (p projectRetention) Set(v string) error {
	name, spec, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=MAX_AGE[,MAX_BYTES], got %q", v)
	}
	ageText, bytesText, _ := strings.Cut(spec, ",")
	var r tiered.Retention
	if ageText != "" && ageText != "0" {
		age, err := time.ParseDuration(ageText)
		if err != nil || age < 0 {
			return fmt.Errorf("max age %q of project %s: want a duration such as 720h", ageText, name)
		}
		r.MaxAge = age
	}
	if bytesText != "" {
		n, err := strconv.ParseUint(bytesText, 10, 64)
		if err != nil {
			return fmt.Errorf("max bytes %q of project %s: want a number of bytes", bytesText, name)
		}
		r.MaxBytes = n
	}
	p[name] = r
	return nil
}

func (projectRetention) Type() string { return "NAME=AGE[,BYTES]" }
