package segment

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/silt-io/silt/pkg/event"
)

// decodeSource sets the Source of evs, the next len(evs) rows: absent
// where the column is null, present (an empty one marked so) elsewhere,
// and present in every row of a segment whose source column is required.
func (c *flatColumns) decodeSource(evs []event.Event) error {
	vals, rows, err := c.optionalStrings(c.source, len(evs))
	if err != nil {
		return err
	}
	for j, v := range vals {
		e := &evs[rows(j)]
		e.Source = c.sources.get(v, c.strs)
		if len(v) == 0 {
			e.Present |= event.PartSource
		}
	}
	return nil
}

// decodeSubject sets the Subject of evs as decodeSource sets the Source.
func (c *flatColumns) decodeSubject(evs []event.Event) error {
	vals, rows, err := c.optionalStrings(c.subject, len(evs))
	if err != nil {
		return err
	}
	s, off := concat(vals), 0
	for j, v := range vals {
		e := &evs[rows(j)]
		e.Subject = s[off : off+len(v)]
		off += len(v)
		if len(v) == 0 {
			e.Present |= event.PartSubject
		}
	}
	return nil
}

// optionalStrings reads the next n rows of a string column that is
// nullable or, in segments written before it became so, required. It
// returns the values and the row of each (rows(j) is value j's row).
func (c *flatColumns) optionalStrings(cr *file.ByteArrayColumnChunkReader, n int) (vals []parquet.ByteArray, rows func(int) int, err error) {
	if cr.Descriptor().MaxDefinitionLevel() == 0 {
		vals, _, err = c.readBytes(cr, n, nil)
		return vals, func(j int) int { return j }, err
	}
	defs := c.levels(n)
	vals, nv, err := c.readBytes(cr, n, defs)
	if err != nil {
		return nil, nil, err
	}
	if nv == n {
		return vals, func(j int) int { return j }, nil
	}
	c.rowOf = c.rowOf[:0]
	for i, d := range defs {
		if d != 0 {
			c.rowOf = append(c.rowOf, i)
		}
	}
	if len(c.rowOf) != nv {
		return nil, nil, fmt.Errorf("%w: column %s has %d values for %d defined rows", ErrCorrupt, cr.Descriptor().Path(), nv, len(c.rowOf))
	}
	return vals, func(j int) int { return c.rowOf[j] }, nil
}
