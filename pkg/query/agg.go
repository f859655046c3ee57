package query

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/sketch"
)

// maxKeys is the most group keys a query takes (the proto's cap).
const maxKeys = 8

// groupCodes is a group's key: a code per key column.
type groupCodes [maxKeys]uint32

// keyDict gives each distinct value of a group key a code; 0 is null.
// Values of each type have their own map, so a lookup allocates nothing.
type keyDict struct {
	strs   map[string]uint32
	nums   map[uint64]uint32 // float64 bits
	ints   map[int64]uint32
	times  map[int64]uint32
	bools  [2]uint32
	values []Value // by code; values[0] is null
	// bytes is about what the codes hold: each value, its map entry and
	// a string's bytes.
	bytes int
}

// keyValueBytes is about what one key value costs besides a string's
// bytes: its Value and its map entry.
const keyValueBytes = int(unsafe.Sizeof(Value{})) + 32

func newKeyDict() *keyDict {
	return &keyDict{strs: map[string]uint32{}, nums: map[uint64]uint32{}, ints: map[int64]uint32{},
		times: map[int64]uint32{}, values: []Value{{}}}
}

// code returns v's code, adding it on first sight.
func (d *keyDict) code(v Value) uint32 {
	var c uint32
	var ok bool
	switch v.Type {
	case TypeNull:
		return 0
	case TypeString:
		if c, ok = d.strs[v.Str]; !ok {
			v.Str = strings.Clone(v.Str)
			c = d.add(v)
			d.strs[v.Str] = c
		}
	case TypeInt:
		if c, ok = d.ints[v.Int]; !ok {
			c = d.add(v)
			d.ints[v.Int] = c
		}
	case TypeFloat:
		k := math.Float64bits(v.F)
		if c, ok = d.nums[k]; !ok {
			c = d.add(v)
			d.nums[k] = c
		}
	case TypeTime:
		k := v.Time.UnixNano()
		if c, ok = d.times[k]; !ok {
			c = d.add(v)
			d.times[k] = c
		}
	case TypeBool:
		i := 0
		if v.Bool {
			i = 1
		}
		if c = d.bools[i]; c == 0 {
			c = d.add(v)
			d.bools[i] = c
		}
	}
	return c
}

// add gives v the next code.
func (d *keyDict) add(v Value) uint32 {
	d.bytes += keyValueBytes + len(v.Str)
	d.values = append(d.values, v)
	return uint32(len(d.values) - 1)
}

// canonical is a text that equal values, and only they, share: the type
// first, so that the string "1" and the number 1 differ.
func canonical(v Value) string {
	switch v.Type {
	case TypeString:
		return "s" + v.Str
	case TypeInt:
		return "i" + strconv.FormatInt(v.Int, 10)
	case TypeFloat:
		return "f" + strconv.FormatFloat(v.F, 'g', -1, 64)
	case TypeTime:
		return "t" + strconv.FormatInt(v.Time.UnixNano(), 10)
	case TypeBool:
		return "b" + strconv.FormatBool(v.Bool)
	}
	return ""
}

// aggState is one aggregate's state over all groups, indexed by group.
type aggState struct {
	a     *aggregate
	count []int64
	sum   []float64
	min   []float64
	max   []float64
	dist  []*sketch.Distinct
	quant []*sketch.Quantiles
}

// aggSink groups rows and aggregates them.
type aggSink struct {
	c         *compiled
	maxGroups int
	maxBytes  int
	dicts     []*keyDict
	groups    map[groupCodes]int32
	keys      []groupCodes // by group
	states    []aggState
	// bucketWidth is, per group, the seconds of its time bucket (rate).
	codes [][]uint32 // per key, per row of the batch
	gids  []int32
	// byCode maps a single key's code to its group (-1: none yet).
	byCode []int32
	// trans, per key, maps the indices of transDict, the dictionary of the
	// last batch that came dictionary-encoded, to codes (dictCodes).
	trans     [][]uint32
	transDict []arrow.ArrayData
}

func newAggSink(c *compiled, opts Options) *aggSink {
	s := &aggSink{c: c, maxGroups: opts.MaxGroups, maxBytes: opts.MaxAggregateBytes, groups: map[groupCodes]int32{}}
	s.trans, s.transDict = make([][]uint32, len(c.keys)), make([]arrow.ArrayData, len(c.keys))
	for range c.keys {
		s.dicts = append(s.dicts, newKeyDict())
		s.codes = append(s.codes, nil)
	}
	for i := range c.aggs {
		s.states = append(s.states, aggState{a: &c.aggs[i]})
	}
	if len(c.keys) == 0 {
		s.group(groupCodes{}) // one row, even over no events
	}
	return s
}

// group returns the index of the group with key k, adding it.
func (s *aggSink) group(k groupCodes) int32 {
	if g, ok := s.groups[k]; ok {
		return g
	}
	g := int32(len(s.keys))
	s.groups[k] = g
	s.keys = append(s.keys, k)
	for i := range s.states {
		st := &s.states[i]
		st.count = append(st.count, 0)
		switch st.a.fn {
		case AggSum, AggAvg:
			st.sum = append(st.sum, 0)
		case AggMin:
			st.min = append(st.min, math.Inf(1))
		case AggMax:
			st.max = append(st.max, math.Inf(-1))
		case AggCountDistinct:
			st.dist = append(st.dist, sketch.NewDistinct(sketch.DefaultDistinctExact))
		case AggPercentile:
			st.quant = append(st.quant, sketch.NewQuantiles(sketch.DefaultQuantileExact))
		}
	}
	return g
}

func (s *aggSink) add(b *Batch, sel []bool) error {
	// Group ids of the selected rows (-1 for the others).
	if cap(s.gids) < b.Len {
		s.gids = make([]int32, b.Len)
	}
	gids := s.gids[:b.Len]
	if len(s.c.keys) == 0 {
		for i := range gids {
			gids[i] = -1
			if sel[i] {
				gids[i] = 0
			}
		}
	} else {
		for k := range s.c.keys {
			if cap(s.codes[k]) < b.Len {
				s.codes[k] = make([]uint32, b.Len)
			}
			s.keyCodes(k, b, sel, s.codes[k][:b.Len])
		}
		one := len(s.c.keys) == 1
		for i := range gids {
			gids[i] = -1
			if !sel[i] {
				continue
			}
			if one { // the code is the key: a slice, not a map
				c := s.codes[0][i]
				for int(c) >= len(s.byCode) {
					s.byCode = append(s.byCode, -1)
				}
				if g := s.byCode[c]; g >= 0 {
					gids[i] = g
					continue
				}
				g := s.group(groupCodes{c})
				s.byCode[c] = g
				gids[i] = g
				continue
			}
			var key groupCodes
			for k := range s.c.keys {
				key[k] = s.codes[k][i]
			}
			gids[i] = s.group(key)
		}
		if len(s.keys) > s.maxGroups {
			return fmt.Errorf("%w: more than %d groups; narrow the query or group more coarsely", event.ErrResultTooLarge, s.maxGroups)
		}
	}
	for i := range s.states {
		s.states[i].add(b, gids)
	}
	return s.bound()
}

// sizeText is n bytes in MiB, or in KiB when under one.
func sizeText(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n>>10) + " KiB"
}

// groupBytes is about what one group costs besides its aggregates' state:
// its codes, its map entry and its index.
const groupBytes = int(unsafe.Sizeof(groupCodes{}))*2 + 16

// stateBytes is about the memory of the sink's state: key codes, groups
// and every aggregate's per-group state.
func (s *aggSink) stateBytes() int {
	n := len(s.keys) * groupBytes
	for _, d := range s.dicts {
		n += d.bytes
	}
	for i := range s.states {
		st := &s.states[i]
		n += 8 * (len(st.count) + len(st.sum) + len(st.min) + len(st.max) + len(st.dist) + len(st.quant))
		for _, d := range st.dist {
			n += d.Bytes()
		}
		for _, q := range st.quant {
			n += q.Bytes()
		}
	}
	return n
}

// bound keeps the state within maxBytes: past it, exact distinct sets and
// percentile values switch to their sketches; if the state is still too
// large, the query fails.
func (s *aggSink) bound() error {
	n := s.stateBytes()
	if n <= s.maxBytes {
		return nil
	}
	for i := range s.states {
		st := &s.states[i]
		for _, d := range st.dist {
			d.Approximate()
		}
		for _, q := range st.quant {
			q.Approximate()
		}
	}
	if n = s.stateBytes(); n > s.maxBytes {
		return fmt.Errorf("%w: the aggregation needs more than %s for its %d groups; narrow the query or group more coarsely",
			event.ErrResultTooLarge, sizeText(s.maxBytes), len(s.keys))
	}
	return nil
}

// merge folds the groups of o, a partial aggregation of the same query,
// into s.
func (s *aggSink) merge(o *aggSink) error {
	for g, key := range o.keys {
		var k groupCodes
		for i := range s.c.keys {
			k[i] = s.dicts[i].code(o.dicts[i].values[key[i]])
		}
		t := s.group(k)
		for i := range s.states {
			s.states[i].merge(t, &o.states[i], int32(g))
		}
	}
	if len(s.keys) > s.maxGroups {
		return fmt.Errorf("%w: more than %d groups; narrow the query or group more coarsely", event.ErrResultTooLarge, s.maxGroups)
	}
	return s.bound()
}

// keyCodes codes key k of each selected row.
func (s *aggSink) keyCodes(k int, b *Batch, sel []bool, out []uint32) {
	gk := &s.c.keys[k]
	d := s.dicts[k]
	if gk.bucket != nil {
		col := b.Time
		if gk.field.Kind == FieldIngestTime {
			col = b.IngestTime
		}
		var bk bucketer
		bk.b = gk.bucket
		for i := range out {
			if !sel[i] || col.IsNull(i) {
				out[i] = 0
				continue
			}
			out[i] = d.code(TimeValue(time.Unix(0, bk.start(int64(col.Value(i)))).UTC()))
		}
		return
	}
	if dc := b.codes(columnOf(gk.field.Kind)); dc != nil {
		s.dictCodes(k, dc, sel, out)
		return
	}
	col := gk.spec.bind(b)
	if gk.typ == TypeString { // a string field: no Value per row
		for i := range out {
			if !sel[i] {
				continue
			}
			str, ok := col.Str(i)
			if !ok {
				out[i] = 0
				continue
			}
			c, found := d.strs[str]
			if !found {
				c = d.code(String(str))
			}
			out[i] = c
		}
		return
	}
	for i := range out {
		if !sel[i] {
			continue
		}
		out[i] = d.code(col.Value(i))
	}
}

// dictCodes is keyCodes of a column that came as dictionary indices:
// each string of the dictionary is coded once, on its first selected row.
func (s *aggSink) dictCodes(k int, dc *array.Dictionary, sel []bool, out []uint32) {
	dict := dc.Dictionary().(*array.String) // the segment's dictionaries are strings
	idx := dc.Indices().(*array.Int32).Int32Values()
	// trans maps an index to its code (0: not coded yet). A row group's
	// batches share one dictionary's data, so trans lasts while it does.
	if dd := dc.Data().Dictionary(); s.transDict[k] != dd {
		s.transDict[k] = dd
		s.trans[k] = slices.Grow(s.trans[k][:0], dict.Len())[:dict.Len()]
		clear(s.trans[k])
	}
	trans := s.trans[k]
	d := s.dicts[k]
	nulls := dc.NullN() > 0
	for i, c := range idx {
		if !sel[i] {
			continue
		}
		if nulls && dc.IsNull(i) {
			out[i] = 0
			continue
		}
		t := trans[c]
		if t == 0 {
			t = d.code(String(dict.Value(int(c))))
			trans[c] = t
		}
		out[i] = t
	}
}

// add folds the rows of the batch whose group id is not -1 into the state.
func (st *aggState) add(b *Batch, gids []int32) {
	a := st.a
	if a.fn == AggCount || a.fn == AggRate {
		if a.field == nil {
			for _, g := range gids {
				if g >= 0 {
					st.count[g]++
				}
			}
			return
		}
		col := a.spec.bind(b)
		for i, g := range gids {
			if g >= 0 && col.Has(i) {
				st.count[g]++
			}
		}
		return
	}
	col := a.spec.bind(b)
	switch a.fn {
	case AggCountDistinct:
		mixed := a.field.Kind == FieldDataPath // values of several types
		for i, g := range gids {
			if g < 0 {
				continue
			}
			switch v := col.Value(i); {
			case v.Type == TypeNull:
			case v.Type == TypeString && !mixed:
				st.dist[g].AddString(v.Str)
			default:
				st.dist[g].AddString(canonical(v))
			}
		}
	default:
		for i, g := range gids {
			if g < 0 {
				continue
			}
			v, ok := col.Float(i)
			if !ok || math.IsNaN(v) {
				continue
			}
			st.count[g]++
			switch a.fn {
			case AggSum, AggAvg:
				st.sum[g] += v
			case AggMin:
				st.min[g] = min(st.min[g], v)
			case AggMax:
				st.max[g] = max(st.max[g], v)
			case AggPercentile:
				st.quant[g].Add(v)
			}
		}
	}
}

// merge folds group g of o, the same aggregate's state in another sink,
// into group t.
func (st *aggState) merge(t int32, o *aggState, g int32) {
	st.count[t] += o.count[g]
	switch st.a.fn {
	case AggSum, AggAvg:
		st.sum[t] += o.sum[g]
	case AggMin:
		st.min[t] = min(st.min[t], o.min[g])
	case AggMax:
		st.max[t] = max(st.max[t], o.max[g])
	case AggCountDistinct:
		st.dist[t].Merge(o.dist[g])
	case AggPercentile:
		st.quant[t].Merge(o.quant[g])
	}
}

// value is the aggregate of group g; approx says whether a sketch gave it.
func (st *aggState) value(g int32, seconds float64) (v Value, approx bool) {
	switch st.a.fn {
	case AggCount:
		return Int(st.count[g]), false
	case AggRate:
		if seconds <= 0 {
			return Value{}, false
		}
		return Float(float64(st.count[g]) / seconds), false
	case AggCountDistinct:
		d := st.dist[g]
		return Int(int64(d.Count())), !d.Exact()
	}
	if st.count[g] == 0 {
		return Value{}, false // SQL: no values, null
	}
	switch st.a.fn {
	case AggSum:
		return Float(st.sum[g]), false
	case AggAvg:
		return Float(st.sum[g] / float64(st.count[g])), false
	case AggMin:
		return Float(st.min[g]), false
	case AggMax:
		return Float(st.max[g]), false
	case AggPercentile:
		q := st.quant[g]
		p, ok := q.Quantile(st.a.p)
		if !ok {
			return Value{}, false
		}
		return Float(p), !q.Exact()
	}
	return Value{}, false
}

func (s *aggSink) result() (*Result, error) {
	res := &Result{}
	for _, k := range s.c.keys {
		res.Columns = append(res.Columns, Column{Name: k.name, Type: k.typ})
	}
	for _, a := range s.c.aggs {
		res.Columns = append(res.Columns, Column{Name: a.name, Type: a.typ})
	}
	order := make([]int32, len(s.keys))
	for g := range order {
		order[g] = int32(g)
	}
	slices.SortFunc(order, func(a, b int32) int {
		for k := range s.c.keys {
			d := s.dicts[k]
			if c := compareValues(d.values[s.keys[a][k]], d.values[s.keys[b][k]]); c != 0 {
				return c
			}
		}
		return 0
	})
	off, err := decodeOffset(s.c.req.PageToken)
	if err != nil {
		return nil, err
	}
	if off > len(order) {
		off = len(order)
	}
	end := min(len(order), off+s.c.limit)
	for _, g := range order[off:end] {
		row := make([]Value, 0, len(res.Columns))
		var bucket Value
		for k, gk := range s.c.keys {
			v := s.dicts[k].values[s.keys[g][k]]
			row = append(row, v)
			if gk.bucket != nil && bucket.Type == TypeNull {
				bucket = v
			}
		}
		secs := s.seconds(bucket)
		for i := range s.states {
			v, approx := s.states[i].value(g, secs)
			row = append(row, v)
			if approx {
				res.Columns[len(s.c.keys)+i].Approximate = true
			}
		}
		res.Rows = append(res.Rows, row)
	}
	if end < len(order) {
		res.NextPageToken = encodeOffset(end)
	}
	return res, nil
}

// seconds is the length of a rate's window: the group's bucket, or the
// query's time range.
func (s *aggSink) seconds(bucket Value) float64 {
	for _, gk := range s.c.keys {
		if gk.bucket == nil {
			continue
		}
		if bucket.Type != TypeTime {
			return 0
		}
		bk := bucketer{b: gk.bucket}
		start := bucket.Time.UnixNano()
		return float64(bk.end(start)-start) / 1e9
	}
	return s.c.req.To.Sub(s.c.req.From).Seconds()
}

// compareValues orders values: null first, then by type, then by value.
func compareValues(a, b Value) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	switch a.Type {
	case TypeString:
		return strings.Compare(a.Str, b.Str)
	case TypeInt:
		return cmp.Compare(a.Int, b.Int)
	case TypeFloat:
		return cmp.Compare(a.F, b.F)
	case TypeTime:
		return a.Time.Compare(b.Time)
	case TypeBool:
		switch {
		case a.Bool == b.Bool:
			return 0
		case !a.Bool:
			return -1
		}
		return 1
	}
	return 0
}

// bucketer maps a timestamp (ns) to the start of its bucket.
type bucketer struct {
	b *Bucket
	// The last calendar bucket, so runs of nearby times skip the zone math.
	lo, hi int64
}

// start returns the start (ns) of t's bucket.
func (k *bucketer) start(t int64) int64 {
	if k.b.Unit == CalendarNone {
		w := int64(k.b.Width)
		s := t - t%w
		if t%w < 0 {
			s -= w
		}
		return s
	}
	if k.hi > k.lo && t >= k.lo && t < k.hi {
		return k.lo
	}
	k.lo = k.calendarStart(t)
	k.hi = k.end(k.lo)
	return k.lo
}

// zone is the calendar buckets' time zone (UTC by default).
func (k *bucketer) zone() *time.Location {
	if k.b.Zone == nil {
		return time.UTC
	}
	return k.b.Zone
}

// calendarStart is the start of t's calendar bucket in the bucket's zone.
func (k *bucketer) calendarStart(t int64) int64 {
	zone := k.zone()
	lt := time.Unix(0, t).In(zone)
	y, m, d := lt.Date()
	switch k.b.Unit {
	case CalendarWeek:
		wd := (int(lt.Weekday()) + 6) % 7 // Monday is 0
		d -= wd
	case CalendarMonth:
		d = 1
	}
	return time.Date(y, m, d, 0, 0, 0, 0, zone).UnixNano()
}

// end returns the end (ns) of the bucket starting at start.
func (k *bucketer) end(start int64) int64 {
	if k.b.Unit == CalendarNone {
		return start + int64(k.b.Width)
	}
	zone := k.zone()
	st := time.Unix(0, start).In(zone)
	y, m, d := st.Date()
	switch k.b.Unit {
	case CalendarDay:
		d++
	case CalendarWeek:
		d += 7
	case CalendarMonth:
		m++
	}
	return time.Date(y, m, d, 0, 0, 0, 0, zone).UnixNano()
}
