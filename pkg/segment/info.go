package segment

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Info describes one segment file: what a manifest stores so that a reader
// finds the file and row group holding a stream's seq or time range without
// opening other files. [(*Writer).Close] returns it; [Open] rebuilds the
// same value from the file's footer ([Reader.Info]).
type Info struct {
	// Project is the project of every event in the segment ("" if the
	// writer was not told).
	Project string
	// Rows is the number of events.
	Rows int64
	// Bytes is the size of the file.
	Bytes int64
	// MinIngestTime and MaxIngestTime bound the events' ingest times.
	MinIngestTime, MaxIngestTime time.Time
	// MinTime and MaxTime bound the events' event times; both are zero when
	// no event has one.
	MinTime, MaxTime time.Time
	// TimesFilled says the time column has no nulls: the writer stored an
	// event without a time with its ingest time, as readers return it, so
	// MinTime and MaxTime bound every event. Segments written before that
	// have false, and bounds that leave such events out.
	TimesFilled bool
	// Streams lists every stream of the segment, sorted by name.
	Streams []StreamRange
	// RowGroups lists the row groups in file order.
	RowGroups []RowGroupInfo
}

// StreamRange is what a segment holds of one stream.
type StreamRange struct {
	Stream string
	// FirstSeq and LastSeq are the stream's first and last seq in the segment.
	FirstSeq, LastSeq uint64
	// Count is the number of events; Count == LastSeq-FirstSeq+1 unless the
	// segment has holes in the stream (after a rewrite for retention).
	Count int64
	// FirstRow is the file-wide index of the stream's first row; its rows
	// are FirstRow to FirstRow+Count-1.
	FirstRow int64
	// MinIngestTime and MaxIngestTime are the ingest times of its first and
	// last event.
	MinIngestTime, MaxIngestTime time.Time
	// DataBytes is the sum of len(Data) of the stream's events in the
	// segment: the payload bytes that size-based retention counts. Segments
	// written before the field existed report 0.
	DataBytes uint64
}

// Gapless reports whether the stream's seqs in the segment have no holes,
// so a seq's row is computed rather than searched.
func (s StreamRange) Gapless() bool { return uint64(s.Count) == s.LastSeq-s.FirstSeq+1 }

// Position is a row's sort key: events are sorted by stream, then seq.
type Position struct {
	Stream string
	Seq    uint64
}

// Compare orders positions as rows are ordered in a segment: -1, 0 or +1.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.Stream, q.Stream); c != 0 {
		return c
	}
	return cmp.Compare(p.Seq, q.Seq)
}

// RowGroupInfo is what one row group holds.
type RowGroupInfo struct {
	// Index is the row group's ordinal in the file.
	Index int
	// Rows is its row count; FirstRow the file-wide index of its first row.
	Rows, FirstRow int64
	// First and Last are the positions of its first and last row.
	First, Last Position
	// MinIngestTime and MaxIngestTime bound its ingest times (all streams).
	MinIngestTime, MaxIngestTime time.Time
	// Offset and Bytes locate its column chunks in the file: what reading
	// the whole row group costs.
	Offset, Bytes int64
	// CRC is the CRC-32C of those bytes; a Reader checks it before it
	// decodes the row group for the first time.
	CRC uint32
}

// Stream returns the range of the named stream, if the segment holds it.
func (in *Info) Stream(name string) (StreamRange, bool) {
	i, ok := slices.BinarySearchFunc(in.Streams, name, func(s StreamRange, n string) int { return cmp.Compare(s.Stream, n) })
	if !ok {
		return StreamRange{}, false
	}
	return in.Streams[i], true
}

// RowGroupFor returns the index of the first row group that can hold p: the
// first one whose last position is at or after p. It returns -1 when p is
// past the segment's last row.
func (in *Info) RowGroupFor(p Position) int {
	i := sort.Search(len(in.RowGroups), func(i int) bool { return in.RowGroups[i].Last.Compare(p) >= 0 })
	if i == len(in.RowGroups) {
		return -1
	}
	return i
}

// rowGroupOfRow returns the row group holding the file-wide row index.
func (in *Info) rowGroupOfRow(row int64) int {
	return sort.Search(len(in.RowGroups), func(i int) bool {
		rg := in.RowGroups[i]
		return rg.FirstRow+rg.Rows > row
	})
}

// metaKey is the Parquet key-value metadata key holding [fileMeta].
const metaKey = "silt.segment"

// fileMeta is the compact JSON stored under metaKey: what the Parquet
// statistics cannot say (per-stream ranges, row-group (stream, seq) ranges).
// Times are Unix nanoseconds. Row groups refer to streams by index.
type fileMeta struct {
	Version   int          `json:"v"`
	Project   string       `json:"project,omitempty"`
	Rows      int64        `json:"rows"`
	Streams   []metaStream `json:"streams"`
	RowGroups []metaGroup  `json:"row_groups"`
	// TimesFilled is Info.TimesFilled (absent in older segments).
	TimesFilled bool `json:"tf,omitempty"`
}

// metaStream is one StreamRange.
type metaStream struct {
	Name      string `json:"s"`
	FirstSeq  uint64 `json:"f"`
	LastSeq   uint64 `json:"l"`
	Count     int64  `json:"n"`
	FirstRow  int64  `json:"r"`
	MinIngest int64  `json:"i"`
	MaxIngest int64  `json:"x"`
	DataBytes uint64 `json:"d,omitempty"`
}

// metaGroup is one row group's (stream, seq) range; streams by index.
type metaGroup struct {
	Rows        int64  `json:"n"`
	FirstStream int    `json:"fs"`
	FirstSeq    uint64 `json:"f"`
	LastStream  int    `json:"ls"`
	LastSeq     uint64 `json:"l"`
	Offset      int64  `json:"o"`
	Bytes       int64  `json:"b"`
	CRC         uint32 `json:"c"`
}

// encodeMeta is the metadata JSON of info.
func encodeMeta(info *Info) (string, error) {
	m := fileMeta{Version: 1, Project: info.Project, Rows: info.Rows, TimesFilled: info.TimesFilled}
	index := make(map[string]int, len(info.Streams))
	for i, s := range info.Streams {
		index[s.Stream] = i
		m.Streams = append(m.Streams, metaStream{
			Name: s.Stream, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, Count: s.Count, FirstRow: s.FirstRow,
			MinIngest: s.MinIngestTime.UnixNano(), MaxIngest: s.MaxIngestTime.UnixNano(),
			DataBytes: s.DataBytes,
		})
	}
	for _, g := range info.RowGroups {
		m.RowGroups = append(m.RowGroups, metaGroup{
			Rows: g.Rows, FirstStream: index[g.First.Stream], FirstSeq: g.First.Seq,
			LastStream: index[g.Last.Stream], LastSeq: g.Last.Seq,
			Offset: g.Offset, Bytes: g.Bytes, CRC: g.CRC,
		})
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode segment metadata: %w", err)
	}
	return string(b), nil
}

// decodeMeta parses the metadata JSON into info's Project, Rows, Streams and
// RowGroups (positions and row counts only), checking it for consistency.
func decodeMeta(s string, info *Info) error {
	var m fileMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return fmt.Errorf("decode segment metadata: %w", err)
	}
	if m.Version != 1 {
		return fmt.Errorf("decode segment metadata: unknown version %d", m.Version)
	}
	info.Project, info.Rows, info.TimesFilled = m.Project, m.Rows, m.TimesFilled
	var row int64
	for i, s := range m.Streams {
		if (i > 0 && s.Name <= m.Streams[i-1].Name) || s.Count <= 0 || s.FirstRow != row ||
			s.LastSeq < s.FirstSeq || uint64(s.Count) > s.LastSeq-s.FirstSeq+1 {
			return fmt.Errorf("decode segment metadata: stream %d (%q) is inconsistent", i, s.Name)
		}
		row += s.Count
		info.Streams = append(info.Streams, StreamRange{
			Stream: s.Name, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, Count: s.Count, FirstRow: s.FirstRow,
			MinIngestTime: fromNanos(s.MinIngest), MaxIngestTime: fromNanos(s.MaxIngest),
			DataBytes: s.DataBytes,
		})
	}
	if row != m.Rows {
		return fmt.Errorf("decode segment metadata: streams hold %d rows, segment %d", row, m.Rows)
	}
	row = 0
	for i, g := range m.RowGroups {
		if g.FirstStream < 0 || g.FirstStream >= len(m.Streams) || g.LastStream < g.FirstStream || g.LastStream >= len(m.Streams) || g.Rows <= 0 ||
			g.Offset < 4 || g.Bytes <= 0 || g.Bytes > 1<<31 {
			return fmt.Errorf("decode segment metadata: row group %d is inconsistent", i)
		}
		info.RowGroups = append(info.RowGroups, RowGroupInfo{
			Index: i, Rows: g.Rows, FirstRow: row,
			First:  Position{m.Streams[g.FirstStream].Name, g.FirstSeq},
			Last:   Position{m.Streams[g.LastStream].Name, g.LastSeq},
			Offset: g.Offset, Bytes: g.Bytes, CRC: g.CRC,
		})
		row += g.Rows
	}
	if row != m.Rows {
		return fmt.Errorf("decode segment metadata: row groups hold %d rows, segment %d", row, m.Rows)
	}
	return nil
}

// fromNanos is the UTC time of Unix nanoseconds.
func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }
