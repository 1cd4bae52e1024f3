// Package conform is a small JSON-shape checker shared by the seed clients.
//
// It knows nothing about any vendor: each seed package describes its
// document's promises as a Schema and gets back human-readable violations.
// Properties a schema does not mention are never violations.
package conform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

type kind uint8

const (
	kindAny kind = iota
	kindString
	kindInteger
	kindNumber
	kindBool
	kindObject
	kindArray
	kindMap
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindInteger:
		return "integer"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	case kindObject, kindMap:
		return "object"
	case kindArray:
		return "array"
	}
	return "any JSON value"
}

// Schema describes one JSON value. The zero value accepts anything but null.
type Schema struct {
	kind     kind
	nullable bool
	enum     []string
	rules    []rule
	props    []Prop
	items    *Schema
}

type rule struct {
	desc  string // "…: <value> is not <desc>"
	plain string // if set, "…: <plain>" instead
	ok    func(v any) bool
}

// Prop is one property of an object schema.
type Prop struct {
	name     string
	schema   Schema
	optional bool
}

// Field is a property that must be present (its value may be null only if
// its schema says Null()).
func Field(name string, s Schema) Prop { return Prop{name: name, schema: s} }

// Optional is a property that may be absent; when present it must match s.
func Optional(name string, s Schema) Prop { return Prop{name: name, schema: s, optional: true} }

// Any accepts every non-null JSON value.
func Any() Schema { return Schema{kind: kindAny} }

// String accepts a JSON string.
func String() Schema { return Schema{kind: kindString} }

// Integer accepts a JSON number written without fraction or exponent.
func Integer() Schema { return Schema{kind: kindInteger} }

// Number accepts any JSON number.
func Number() Schema { return Schema{kind: kindNumber} }

// Bool accepts true or false.
func Bool() Schema { return Schema{kind: kindBool} }

// Object accepts a JSON object having the given properties (others allowed).
func Object(props ...Prop) Schema { return Schema{kind: kindObject, props: props} }

// Map accepts a JSON object whose every value matches values.
func Map(values Schema) Schema { return Schema{kind: kindMap, items: &values} }

// Array accepts a JSON array whose every element matches items.
func Array(items Schema) Schema { return Schema{kind: kindArray, items: &items} }

// Null returns a copy of s that also accepts null.
func (s Schema) Null() Schema { s.nullable = true; return s }

// Enum returns a copy of s (a string schema) restricted to vals.
func (s Schema) Enum(vals ...string) Schema { s.enum = vals; return s }

// Where returns a copy of s with an extra rule on non-null values; desc says
// what the value must be ("ISO 8601 date-time", "upper-case ISO 4217 code").
func (s Schema) Where(desc string, ok func(v any) bool) Schema {
	s.rules = append(append([]rule(nil), s.rules...), rule{desc: desc, ok: ok})
	return s
}

// Match returns a copy of s (a string schema) whose value must satisfy ok.
func (s Schema) Match(desc string, ok func(string) bool) Schema {
	return s.Where(desc, func(v any) bool {
		str, isStr := v.(string)
		return isStr && ok(str)
	})
}

// NonEmpty returns a copy of s whose string, array or object value must not
// be empty.
func (s Schema) NonEmpty() Schema {
	s.rules = append(append([]rule(nil), s.rules...), rule{plain: "is empty", ok: func(v any) bool {
		switch t := v.(type) {
		case string:
			return t != ""
		case []any:
			return len(t) > 0
		case map[string]any:
			return len(t) > 0
		}
		return true
	}})
	return s
}

// Decode parses raw as exactly one JSON value, keeping numbers as json.Number.
func Decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// Validate decodes raw and checks it against root. Violations are prefixed
// with a JSONPath-like location ("$.data.id").
func Validate(raw []byte, root Schema) []string {
	v, err := Decode(raw)
	if err != nil {
		return []string{"$: not valid JSON: " + err.Error()}
	}
	return Walk(v, root)
}

// Walk checks an already decoded value (from Decode) against root.
func Walk(v any, root Schema) []string {
	var out []string
	walk("$", v, root, &out)
	return out
}

func walk(path string, v any, s Schema, out *[]string) {
	if v == nil {
		if !s.nullable {
			*out = append(*out, fmt.Sprintf("%s: is null, want %s", path, s.kind))
		}
		return
	}
	if !hasKind(v, s.kind) {
		*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, s.kind, describe(v)))
		return
	}
	if len(s.enum) > 0 {
		str, _ := v.(string)
		found := false
		for _, e := range s.enum {
			if str == e {
				found = true
				break
			}
		}
		if !found {
			*out = append(*out, fmt.Sprintf("%s: %q is not one of %s", path, str, strings.Join(s.enum, "|")))
		}
	}
	for _, r := range s.rules {
		switch {
		case r.ok(v):
		case r.plain != "":
			*out = append(*out, fmt.Sprintf("%s: %s", path, r.plain))
		default:
			*out = append(*out, fmt.Sprintf("%s: %s is not %s", path, describe(v), r.desc))
		}
	}
	switch s.kind {
	case kindObject:
		obj := v.(map[string]any)
		for _, p := range s.props {
			pv, present := obj[p.name]
			if !present {
				if !p.optional {
					*out = append(*out, fmt.Sprintf("%s.%s: required property is missing", path, p.name))
				}
				continue
			}
			walk(path+"."+p.name, pv, p.schema, out)
		}
	case kindMap:
		obj := v.(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(path+"."+k, obj[k], *s.items, out)
		}
	case kindArray:
		for i, e := range v.([]any) {
			walk(fmt.Sprintf("%s[%d]", path, i), e, *s.items, out)
		}
	}
}

func hasKind(v any, k kind) bool {
	switch k {
	case kindAny:
		return true
	case kindString:
		_, ok := v.(string)
		return ok
	case kindInteger:
		n, ok := v.(json.Number)
		return ok && IsIntegerLiteral(n)
	case kindNumber:
		_, ok := v.(json.Number)
		return ok
	case kindBool:
		_, ok := v.(bool)
		return ok
	case kindObject, kindMap:
		_, ok := v.(map[string]any)
		return ok
	case kindArray:
		_, ok := v.([]any)
		return ok
	}
	return false
}

// IsIntegerLiteral reports whether n is written as an integer (no fraction,
// no exponent).
func IsIntegerLiteral(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 60 {
			t = t[:60] + "…"
		}
		return fmt.Sprintf("string %q", t)
	case json.Number:
		if IsIntegerLiteral(t) {
			return "integer " + string(t)
		}
		return "number " + string(t)
	case bool:
		return fmt.Sprintf("boolean %t", t)
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// Get follows keys through nested objects of a decoded value.
func Get(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
