package segment

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// Column names of the segment schema, in schema order. docs/segments.md
// describes each one.
const (
	colStream      = "stream"
	colSeq         = "seq"
	colID          = "id"
	colType        = "type"
	colSource      = "source"
	colSubject     = "subject"
	colTime        = "time"
	colIngestTime  = "ingest_time"
	colAttributes  = "attributes"
	colMetrics     = "metrics"
	colContentType = "content_type"
	colData        = "data"
	colDataBinary  = "data_binary"
)

// Field positions in [Schema]; the record builder and the decoder index by them.
const (
	fStream = iota
	fSeq
	fID
	fType
	fSource
	fSubject
	fTime
	fIngestTime
	fAttributes
	fMetrics
	fContentType
	fData
	fDataBinary
	numFields
)

// timestampType is nanoseconds since the Unix epoch, UTC. In Parquet it is
// INT64 TIMESTAMP(isAdjustedToUTC=true, NANOS).
var timestampType = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}

// stringMap and numberMap are the attribute and metric maps: keys and items
// are never null; a map itself is never null either (an empty map stands for
// a nil one).
var (
	stringMap = func() *arrow.MapType {
		m := arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
		m.SetItemNullable(false)
		return m
	}()
	numberMap = func() *arrow.MapType {
		m := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)
		m.SetItemNullable(false)
		return m
	}()
)

// Schema is the Arrow schema of every segment: one row per event, sorted by
// (stream, seq). Only source, subject (null: the event has none), time,
// data and data_binary (both null: no payload) are nullable. Segments
// written before source and subject became nullable hold them required;
// readers take both (nullable.go).
var Schema = arrow.NewSchema([]arrow.Field{
	fStream:      {Name: colStream, Type: arrow.BinaryTypes.String},
	fSeq:         {Name: colSeq, Type: arrow.PrimitiveTypes.Uint64},
	fID:          {Name: colID, Type: arrow.BinaryTypes.String},
	fType:        {Name: colType, Type: arrow.BinaryTypes.String},
	fSource:      {Name: colSource, Type: arrow.BinaryTypes.String, Nullable: true},
	fSubject:     {Name: colSubject, Type: arrow.BinaryTypes.String, Nullable: true},
	fTime:        {Name: colTime, Type: timestampType, Nullable: true},
	fIngestTime:  {Name: colIngestTime, Type: timestampType},
	fAttributes:  {Name: colAttributes, Type: stringMap},
	fMetrics:     {Name: colMetrics, Type: numberMap},
	fContentType: {Name: colContentType, Type: arrow.BinaryTypes.String},
	fData:        {Name: colData, Type: arrow.BinaryTypes.String, Nullable: true},
	fDataBinary:  {Name: colDataBinary, Type: arrow.BinaryTypes.Binary, Nullable: true},
}, nil)

// Parquet leaf column paths of the map fields.
const (
	pathAttrKey   = "attributes.key_value.key"
	pathAttrValue = "attributes.key_value.value"
	pathMetricKey = "metrics.key_value.key"
	pathMetricVal = "metrics.key_value.value"
)

// createdBy names the writer in the Parquet footer.
const createdBy = "silt segment writer (arrow-go v18)"

// bestZstdLevel is the least zstd level of the id, time, ingest_time and
// attribute-value columns: the Go encoder's best speed class. It makes ids
// 13% smaller and delta-packed event times 25% smaller than level 6 does,
// at about 20 MB/s (most of the CPU a segment's writing costs with DataZstd).
const bestZstdLevel = 12

// dataGzipLevel is the gzip level of the data column. On the JSON text of
// analytics events gzip 9 gives pages 12% smaller than the Go zstd encoder
// at its best level (deflate spends fewer bits on the many short matches of
// small JSON objects); it decodes at about half zstd's speed.
const dataGzipLevel = 9

// writerProperties are the Parquet settings of a segment: zstd (gzip for
// JSON payloads by default), dictionaries on low-cardinality strings and
// attribute values, delta encodings for sorted or slowly changing integers,
// statistics on the columns that prune, and a page index on the flat
// columns so that a seek decodes only the page holding its row.
// docs/segments.md measures each choice.
func writerProperties(o WriterOptions) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithCreatedBy(createdBy),
		parquet.WithVersion(parquet.V2_LATEST),
		// Version 1 data pages compress the repetition levels of the maps
		// with their values; version 2 pages would store them raw (0.8
		// B/event more) in exchange for row-aligned map pages.
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(o.CompressionLevel),
		parquet.WithMaxRowGroupLength(int64(o.RowGroupRows)),
		parquet.WithDataPageSize(int64(o.PageBytes)),
		// A page index (offset and column index) on the flat columns lets a
		// seek skip whole pages. It lies outside the row groups' checksummed
		// bytes; arrow-go parses it only when a flat column seeks, in the
		// reader's goroutine, where a panic on a damaged index is recovered.
		// Map columns have version 1 pages, which may split a row, so they
		// must have no index (the format requires indexed pages to start on
		// a row); a seek decodes them from the row group's start.
		// arrow-go writes no page index at all unless it is enabled for the
		// file, so it is enabled here and disabled for the map leaves below.
		parquet.WithPageIndexEnabled(true),
		parquet.WithStats(true),
		parquet.WithSortingColumns([]parquet.SortingColumn{{ColumnIdx: 0}, {ColumnIdx: 1}}),
		parquet.WithDictionaryDefault(false),
	}
	for _, p := range []string{colStream, colType, colSource, colSubject, colContentType, pathAttrKey, pathAttrValue, pathMetricKey, pathMetricVal} {
		props = append(props, parquet.WithDictionaryFor(p, true))
	}
	for _, p := range []string{pathAttrKey, pathAttrValue, pathMetricKey, pathMetricVal} {
		props = append(props, parquet.WithPageIndexEnabledFor(p, false))
	}
	for _, p := range []string{colSeq, colTime, colIngestTime} {
		props = append(props, parquet.WithEncodingFor(p, parquet.Encodings.DeltaBinaryPacked))
	}
	for _, p := range []string{colID, colTime, colIngestTime, pathAttrValue} {
		props = append(props, parquet.WithCompressionLevelFor(p, max(o.CompressionLevel, bestZstdLevel)))
	}
	props = append(props,
		// Not DELTA_BYTE_ARRAY, though it would be 4% smaller: arrow-go
		// v18.4.1 carries its prefixes across pages, which DuckDB rejects
		// ("prefix is out of range") and a page-index seek misreads. Fixed
		// in arrow-go v18.8.0.
		parquet.WithEncodingFor(colID, parquet.Encodings.Plain),
		parquet.WithEncodingFor(colData, parquet.Encodings.DeltaLengthByteArray),
		parquet.WithEncodingFor(colDataBinary, parquet.Encodings.DeltaLengthByteArray),
		// Payload statistics would copy up to 4 KiB of data per page into the
		// footer and page index, and nothing prunes on them.
		parquet.WithStatsFor(colData, false),
		parquet.WithStatsFor(colDataBinary, false),
	)
	if o.DataCompression == DataGzip {
		props = append(props,
			parquet.WithCompressionFor(colData, compress.Codecs.Gzip),
			parquet.WithCompressionLevelFor(colData, dataGzipLevel))
	}
	return parquet.NewWriterProperties(props...)
}
