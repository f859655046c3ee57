package query

import (
	"fmt"
	"strings"
	"time"
)

// FieldKind says which part of an event a Field names.
type FieldKind int

// Field kinds. The envelope fields are columns of the segment schema;
// Attribute and Metric name one key of the maps; Data is the JSON text of
// the payload; DataPath is a value inside it.
const (
	FieldStream FieldKind = iota + 1
	FieldSeq
	FieldID
	FieldType
	FieldSource
	FieldSubject
	FieldTime
	FieldIngestTime
	FieldContentType
	FieldAttribute
	FieldMetric
	FieldData
	FieldDataPath
)

// Field names one value of an event.
type Field struct {
	Kind FieldKind
	// Key is the attribute or metric key, or the JSON path (for DataPath,
	// in the form "$.a.b[2]").
	Key string
}

// envelopeNames are the names ParseField takes for the envelope fields.
var envelopeNames = map[string]FieldKind{
	"stream": FieldStream, "seq": FieldSeq, "id": FieldID, "type": FieldType,
	"source": FieldSource, "subject": FieldSubject, "time": FieldTime,
	"ingest_time": FieldIngestTime, "content_type": FieldContentType, "data": FieldData,
}

// ParseField parses a field name: an envelope field ("type", "time" …),
// "attributes.<key>", "metrics.<key>", "data" (the JSON text) or a JSON
// path into data ("$.user.plan", at most 32 steps). Keys may hold dots:
// everything after the first dot is the key.
func ParseField(s string) (Field, error) {
	if k, ok := envelopeNames[s]; ok {
		return Field{Kind: k}, nil
	}
	if key, ok := strings.CutPrefix(s, "attributes."); ok && key != "" {
		return Field{Kind: FieldAttribute, Key: key}, nil
	}
	if key, ok := strings.CutPrefix(s, "metrics."); ok && key != "" {
		return Field{Kind: FieldMetric, Key: key}, nil
	}
	if strings.HasPrefix(s, "$") {
		if _, err := parsePath(s); err != nil {
			return Field{}, err
		}
		return Field{Kind: FieldDataPath, Key: s}, nil
	}
	return Field{}, fmt.Errorf("unknown field %q: want an envelope field (stream, seq, id, type, source, subject, time, ingest_time, content_type, data), attributes.<key>, metrics.<key> or a JSON path such as $.user.plan", s)
}

// String is the name ParseField takes.
func (f Field) String() string {
	switch f.Kind {
	case FieldAttribute:
		return "attributes." + f.Key
	case FieldMetric:
		return "metrics." + f.Key
	case FieldDataPath:
		return f.Key
	}
	for name, k := range envelopeNames {
		if k == f.Kind {
			return name
		}
	}
	return fmt.Sprintf("field(%d)", f.Kind)
}

// ValueType is the type of a Field's values and of result columns.
type ValueType int

// Value types.
const (
	TypeNull ValueType = iota
	TypeString
	TypeInt   // int64; seq and counts (seq fits: seqs stay below 2^63)
	TypeFloat // float64
	TypeTime
	TypeBool
)

// String names the type in errors and plans.
func (t ValueType) String() string {
	return [...]string{"null", "string", "int", "float", "time", "bool"}[t]
}

// Type is the type of the field's values. A JSON path has no fixed type:
// it is TypeNull, and comparisons take the value's JSON type row by row.
func (f Field) Type() ValueType {
	switch f.Kind {
	case FieldSeq:
		return TypeInt
	case FieldTime, FieldIngestTime:
		return TypeTime
	case FieldMetric:
		return TypeFloat
	case FieldDataPath:
		return TypeNull
	}
	return TypeString
}

// Value is one typed value: a filter operand, a group key or an aggregate.
// The zero Value is null.
type Value struct {
	Type ValueType
	Str  string
	Int  int64
	F    float64
	Time time.Time
	Bool bool
}

// String, Int, Float, Time and Bool make Values.
func String(s string) Value       { return Value{Type: TypeString, Str: s} }
func Int(v int64) Value           { return Value{Type: TypeInt, Int: v} }
func Float(v float64) Value       { return Value{Type: TypeFloat, F: v} }
func TimeValue(t time.Time) Value { return Value{Type: TypeTime, Time: t} }
func Bool(v bool) Value           { return Value{Type: TypeBool, Bool: v} }

// Op is the kind of a filter node.
type Op int

// Filter operators.
const (
	// OpAnd, OpOr and OpNot combine Args.
	OpAnd Op = iota + 1
	OpOr
	OpNot
	// OpCompare compares Field to Value with Cmp. An event without the
	// field (no such attribute or metric, no time, a JSON path that does
	// not resolve) matches no comparison.
	OpCompare
	// OpIn: Field equals one of Values.
	OpIn
	// OpExists: the event has the attribute, metric or JSON path Field.
	OpExists
	// OpContains: Field's text contains Value.Str; IgnoreCase folds case
	// (Unicode simple folding). On FieldData it searches the JSON text.
	OpContains
)

// Cmp is a comparison operator.
type Cmp int

// Comparison operators.
const (
	Eq Cmp = iota + 1
	Ne
	Lt
	Le
	Gt
	Ge
)

// Filter is a node of a filter tree.
type Filter struct {
	Op         Op
	Args       []*Filter // And, Or, Not (one)
	Field      Field
	Cmp        Cmp
	Value      Value
	Values     []Value // In
	IgnoreCase bool    // Contains
}
