package cli

import (
	"strconv"

	"github.com/silt-io/silt/pkg/diskspace"
)

// sizeFlag is a byte count flag that takes a plain number or a size with a
// unit ("64MiB", "1GiB"), as diskspace.ParseSize reads it.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return "0"
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	n, err := diskspace.ParseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

func (sizeFlag) Type() string { return "size" }
