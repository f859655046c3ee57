package query

import "github.com/apache/arrow-go/v18/arrow/array"

// Batch is a run of events as Arrow columns of the segment schema
// (segment.Schema), from a segment's row group or from the hot tier.
// Columns the query does not need are nil.
type Batch struct {
	// Len is the number of rows.
	Len int
	// Project is the project of every row.
	Project string

	Stream      *array.String
	Seq         *array.Uint64
	ID          *array.String
	Type        *array.String
	Source      *array.String    // null when the event has none
	Subject     *array.String    // null when the event has none
	Time        *array.Timestamp // nanoseconds, UTC; never null from the tiers (no time: the ingest time)
	IngestTime  *array.Timestamp
	Attributes  *array.Map // string → string
	Metrics     *array.Map // string → float64
	ContentType *array.String
	Data        *array.String // JSON text; null for binary payloads and none
	DataBinary  *array.Binary // payloads that are not JSON text; null otherwise

	// Codes holds the dictionary-encoded columns that came as dictionary
	// arrays (int32 indices into strings) instead of strings: then only
	// group keys read them (compiled.dictCols), and the string column is
	// nil.
	Codes map[columnSet]*array.Dictionary
}

// codes returns the dictionary array of column col, or nil.
func (b *Batch) codes(col columnSet) *array.Dictionary {
	return b.Codes[col]
}

// columnSet names Batch columns, as a bit set over the segment schema's
// column positions.
type columnSet uint32

// Columns of a Batch.
const (
	colStream columnSet = 1 << iota
	colSeq
	colID
	colType
	colSource
	colSubject
	colTime
	colIngestTime
	colAttributes
	colMetrics
	colContentType
	colData
	colDataBinary
)

// columnOf names the column of a Batch that holds field kind k.
func columnOf(k FieldKind) columnSet {
	switch k {
	case FieldStream:
		return colStream
	case FieldSeq:
		return colSeq
	case FieldID:
		return colID
	case FieldType:
		return colType
	case FieldSource:
		return colSource
	case FieldSubject:
		return colSubject
	case FieldTime:
		return colTime
	case FieldIngestTime:
		return colIngestTime
	case FieldContentType:
		return colContentType
	case FieldAttribute:
		return colAttributes
	case FieldMetric:
		return colMetrics
	case FieldData, FieldDataPath:
		return colData
	}
	return 0
}
