package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// A request body given to the CLI (silt query --body) may write enum
// values as people say them: "count" for AGGREGATE_FUNCTION_COUNT, "eq" or
// "=" for COMPARE_OP_EQ, "-seq" for QUERY_ORDER_SEQ_DESC, "day" for
// CALENDAR_UNIT_DAY, and an aggregation's "function":"p99" for a
// percentile with "percentile":99. expandEnums rewrites them into the
// names protojson reads; full names and numbers pass unchanged.

// enumAliases are short forms that are not the value's name without the
// enum's prefix, by enum.
var enumAliases = map[protoreflect.FullName]map[string]string{
	siltv1.CompareOp_COMPARE_OP_EQ.Descriptor().FullName(): {
		"=": "EQ", "==": "EQ", "!=": "NE", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE",
	},
	siltv1.QueryOrder_QUERY_ORDER_TIME_ASC.Descriptor().FullName(): {
		"time": "TIME_ASC", "-time": "TIME_DESC", "seq": "SEQ_ASC", "-seq": "SEQ_DESC",
	},
}

// aggregationName is the message whose function may be written pNN.
var aggregationName = (&siltv1.Aggregation{}).ProtoReflect().Descriptor().FullName()

// percentileName is an aggregation function written as pNN (p50, p99.9).
var percentileName = regexp.MustCompile(`^[pP](\d+(?:\.\d+)?)$`)

// expandEnums rewrites the short enum values of a JSON body of message md.
func expandEnums(body []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonSyntaxError(body, err, "a JSON object")
	}
	if err := expandMessage(v, md, ""); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// expandMessage rewrites the enum fields of one JSON object of message md.
func expandMessage(v any, md protoreflect.MessageDescriptor, path string) error {
	obj, ok := v.(map[string]any)
	if !ok || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // protojson reports a wrong shape; well-known types hold no enums
	}
	for key, val := range obj {
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByTextName(key)
		}
		if fd == nil || fd.IsMap() {
			continue
		}
		fpath := joinPath(path, key)
		if md.FullName() == aggregationName && fd.Name() == "function" {
			if s, ok := val.(string); ok {
				if m := percentileName.FindStringSubmatch(s); m != nil {
					p, _ := strconv.ParseFloat(m[1], 64)
					obj[key] = siltv1.AggregateFunction_AGGREGATE_FUNCTION_PERCENTILE.String()
					if _, set := obj["percentile"]; !set {
						obj["percentile"] = p
					}
					continue
				}
			}
		}
		items := []any{val}
		list, isList := val.([]any)
		if isList && fd.IsList() {
			items = list
		}
		for i, item := range items {
			ipath := fpath
			if isList && fd.IsList() {
				ipath = fmt.Sprintf("%s[%d]", fpath, i)
			}
			switch fd.Kind() {
			case protoreflect.EnumKind:
				s, ok := item.(string)
				if !ok {
					continue
				}
				name, err := enumName(fd.Enum(), s)
				if err != nil {
					return fmt.Errorf("%s: %w", ipath, err)
				}
				if isList && fd.IsList() {
					list[i] = name
				} else {
					obj[key] = name
				}
			case protoreflect.MessageKind:
				if err := expandMessage(item, fd.Message(), ipath); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// enumName is the full value name of s in enum ed: s itself when it is a
// full name, else the value whose name without the enum's common prefix
// is s in any case, or an alias.
func enumName(ed protoreflect.EnumDescriptor, s string) (string, error) {
	values := ed.Values()
	if values.ByName(protoreflect.Name(s)) != nil {
		return s, nil
	}
	prefix := enumPrefix(ed)
	short := s
	if a, ok := enumAliases[ed.FullName()][s]; ok {
		short = a
	}
	if v := values.ByName(protoreflect.Name(prefix + strings.ToUpper(short))); v != nil && v.Number() != 0 {
		return string(v.Name()), nil
	}
	var accepted []string
	for i := range values.Len() {
		if v := values.Get(i); v.Number() != 0 {
			accepted = append(accepted, strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)))
		}
	}
	aliases := make([]string, 0, len(enumAliases[ed.FullName()]))
	for a := range enumAliases[ed.FullName()] {
		aliases = append(aliases, a)
	}
	slices.Sort(aliases)
	if ed.FullName() == siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT.Descriptor().FullName() {
		aliases = append(aliases, "pNN such as p99")
	}
	msg := fmt.Sprintf("%q is not one of %s", s, strings.Join(accepted, ", "))
	if len(aliases) > 0 {
		msg += " (or " + strings.Join(aliases, ", ") + ")"
	}
	return "", fmt.Errorf("%s", msg)
}

// enumPrefix is the prefix every value name of ed shares, such as
// "COMPARE_OP_" (the UNSPECIFIED value's name without "UNSPECIFIED").
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	if v := ed.Values().ByNumber(0); v != nil {
		if p, ok := strings.CutSuffix(string(v.Name()), "UNSPECIFIED"); ok {
			return p
		}
	}
	return ""
}
