// Package stripeschema validates JSON answers against Stripe's published
// schema for checkout.session and the objects it references
// (docs/stripe/checkout-session.schema.json), so that tests can hold
// paypage's Stripe dialect to what Stripe's own clients expect.
//
// The schema is OpenAPI 3.0 flavoured; it is translated to JSON Schema
// 2020-12 by docs.StripeSchemas, as testdata/stripe-node/check.mjs
// translates it for ajv, so that the Go and the Node tests judge an answer
// alike.
package stripeschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/paypage/paypage/docs"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The compiler's resource names; they appear in no message.
const (
	schemaURL = "stripe-checkout-session.json"
	listURL   = "stripe-list.json"
)

// listEnvelope is what every Stripe list answer is, whatever it lists: the
// same four properties as checkout.session's line_items. Its elements are
// validated one by one against the item schema, so that their pointers are
// the list's.
var listEnvelope = map[string]any{
	"type":     "object",
	"required": []any{"object", "data", "has_more", "url"},
	"properties": map[string]any{
		"object":   map[string]any{"type": "string", "enum": []any{"list"}},
		"data":     map[string]any{"type": "array"},
		"has_more": map[string]any{"type": "boolean"},
		"url":      map[string]any{"type": "string", "maxLength": 5000},
	},
}

// Stripe's formats; the schema uses no other.
var formats = []*jsonschema.Format{
	{Name: "currency", Validate: matchString(regexp.MustCompile(`^[a-z]{3}$`), "three lowercase letters (ISO 4217)")},
	{Name: "decimal", Validate: matchString(regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`), "a decimal number")},
	{Name: "unix-time", Validate: func(v any) error {
		if n, ok := v.(json.Number); ok {
			if _, err := n.Int64(); err != nil {
				return errors.New("not an integer number of seconds")
			}
		}
		return nil
	}},
}

func matchString(re *regexp.Regexp, want string) func(any) error {
	return func(v any) error {
		if s, ok := v.(string); ok && !re.MatchString(s) {
			return errors.New("not " + want)
		}
		return nil
	}
}

// schemas compiles the schema once and then each definition on first use.
var schemas = struct {
	sync.Mutex
	compiler *jsonschema.Compiler
	defs     map[string]any
	byName   map[string]*jsonschema.Schema
	err      error
}{byName: map[string]*jsonschema.Schema{}}

// compiled returns the compiled schema of the component named name
// ("checkout.session", "item", "price", …) or, for listURL, the list envelope.
func compiled(name string) (*jsonschema.Schema, error) {
	schemas.Lock()
	defer schemas.Unlock()
	if schemas.compiler == nil && schemas.err == nil {
		schemas.compiler, schemas.defs, schemas.err = load()
	}
	if schemas.err != nil {
		return nil, schemas.err
	}
	if s, ok := schemas.byName[name]; ok {
		return s, nil
	}
	loc := listURL
	if name != listURL {
		if _, ok := schemas.defs[name]; !ok {
			return nil, fmt.Errorf("stripeschema: Stripe's schema has no %q", name)
		}
		loc = schemaURL + "#/$defs/" + pointerToken(name)
	}
	s, err := schemas.compiler.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("stripeschema: compile %s: %w", name, err)
	}
	schemas.byName[name] = s
	return s, nil
}

// load translates the schema (docs.StripeSchemas) and readies a compiler.
func load() (*jsonschema.Compiler, map[string]any, error) {
	translated, err := docs.StripeSchemas("#/$defs/")
	if err != nil {
		return nil, nil, fmt.Errorf("stripeschema: %w", err)
	}
	defs := make(map[string]any, len(translated))
	for name, s := range translated {
		defs[name] = s
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range formats {
		c.RegisterFormat(f)
	}
	if err := c.AddResource(schemaURL, map[string]any{"$defs": defs}); err != nil {
		return nil, nil, fmt.Errorf("stripeschema: %w", err)
	}
	if err := c.AddResource(listURL, listEnvelope); err != nil {
		return nil, nil, fmt.Errorf("stripeschema: %w", err)
	}
	return c, defs, nil
}

// Violation is one way an answer differs from the schema.
type Violation struct {
	Pointer string // JSON pointer (RFC 6901) of the offending value; a missing property's own pointer
	Message string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "(root)"
	}
	return p + ": " + v.Message
}

// Error lists every violation of one answer.
type Error struct {
	Schema     string // "checkout.session", "item", "list of item", …
	Violations []Violation
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		lines[i] = "\t" + v.String()
	}
	return fmt.Sprintf("not a valid %s (%d violations):\n%s", e.Schema, len(e.Violations), strings.Join(lines, "\n"))
}

// Validate checks the JSON document v against the schema of the component
// named schema ("checkout.session", "item", …). A *Error names the JSON
// pointer of every violation.
func Validate(schema string, v []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
	if err != nil {
		return fmt.Errorf("stripeschema: %s: not JSON: %w", schema, err)
	}
	vs, err := validate(schema, doc, "")
	if err != nil {
		return err
	}
	if len(vs) > 0 {
		return &Error{Schema: schema, Violations: vs}
	}
	return nil
}

// ValidateList checks that v is a Stripe list ({object: "list", data,
// has_more, url}) whose every element is valid against itemSchema.
func ValidateList(itemSchema string, v []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
	if err != nil {
		return fmt.Errorf("stripeschema: list of %s: not JSON: %w", itemSchema, err)
	}
	vs, err := validate(listURL, doc, "")
	if err != nil {
		return err
	}
	obj, _ := doc.(map[string]any)
	data, _ := obj["data"].([]any)
	for i, elem := range data {
		more, err := validate(itemSchema, elem, "/data/"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		vs = append(vs, more...)
	}
	if len(vs) > 0 {
		return &Error{Schema: "list of " + itemSchema, Violations: vs}
	}
	return nil
}

// validate returns the violations of doc, its pointers prefixed by at.
func validate(name string, doc any, at string) ([]Violation, error) {
	s, err := compiled(name)
	if err != nil {
		return nil, err
	}
	err = s.Validate(doc)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil, nil
	} else if !errors.As(err, &ve) {
		return nil, fmt.Errorf("stripeschema: validate %s: %w", name, err)
	}
	var vs []Violation
	leaves(ve, "", &vs)
	for i := range vs {
		vs[i].Pointer = at + vs[i].Pointer
	}
	// One violation per pointer and message, in document order.
	slices.SortStableFunc(vs, func(a, b Violation) int { return strings.Compare(a.Pointer, b.Pointer) })
	return slices.Compact(vs), nil
}

var printer = message.NewPrinter(language.English)

// leaves collects the innermost errors of e: those say what is wrong where.
// An anyOf (how nullable references and alternatives are written) is
// reported through the alternatives that fit the value's type, so that a
// price with a null id reads "/price/id: got null, want string" and not
// "price is not null either".
func leaves(e *jsonschema.ValidationError, label string, out *[]Violation) {
	at := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, p := range k.Missing {
			*out = append(*out, Violation{at + "/" + pointerToken(p), label + "missing required property"})
		}
		return
	case *kind.Type:
		*out = append(*out, Violation{at, label + fmt.Sprintf("got %s, want %s", k.Got, strings.Join(k.Want, " or "))})
		return
	case *kind.Enum:
		*out = append(*out, Violation{at, label + fmt.Sprintf("got %s, want one of %s", jsonText(k.Got), jsonText(k.Want))})
		return
	case *kind.AnyOf:
		var fits []*jsonschema.ValidationError
		var types []string
		for _, c := range e.Causes {
			if t := typeMismatch(c, e.InstanceLocation); t != nil {
				types = append(types, t.Want...)
				continue
			}
			fits = append(fits, c)
		}
		if len(fits) == 0 {
			*out = append(*out, Violation{at, label + fmt.Sprintf("got %s, want %s", jsonType(e), strings.Join(types, " or "))})
			return
		}
		// A product is not a deleted_product with "deleted" missing.
		if kept := slices.DeleteFunc(slices.Clone(fits), func(c *jsonschema.ValidationError) bool {
			return contradicted(c, e.InstanceLocation)
		}); len(kept) > 0 {
			fits = kept
		}
		for _, c := range fits {
			sub := label
			if len(fits) > 1 {
				sub += "as " + defName(c) + ": "
			}
			leaves(c, sub, out)
		}
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, Violation{at, label + e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		leaves(c, label, out)
	}
}

// typeMismatch returns the type error by which an anyOf alternative refused
// the value at loc itself, or nil when it refused it for something inside.
func typeMismatch(e *jsonschema.ValidationError, loc []string) *kind.Type {
	if t, ok := e.ErrorKind.(*kind.Type); ok && slices.Equal(e.InstanceLocation, loc) {
		return t
	}
	for _, c := range e.Causes {
		if t := typeMismatch(c, loc); t != nil {
			return t
		}
	}
	return nil
}

// jsonType is the type of the value an anyOf refused, as its alternatives'
// type errors name it.
func jsonType(e *jsonschema.ValidationError) string {
	for _, c := range e.Causes {
		if t := typeMismatch(c, e.InstanceLocation); t != nil {
			return t.Got
		}
	}
	return "a value"
}

// defName names the definition an anyOf alternative refers to.
func defName(e *jsonschema.ValidationError) string {
	if ref, ok := e.ErrorKind.(*kind.Reference); ok {
		if _, name, ok := strings.Cut(ref.URL, "#/$defs/"); ok {
			return strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
		}
	}
	return "alternative"
}

// contradicted reports whether the anyOf alternative e refers to a
// definition that the value at loc lacks or contradicts a discriminator of:
// a property whose enum has one value (object: "product", deleted: true).
func contradicted(e *jsonschema.ValidationError, loc []string) bool {
	def, _ := schemas.defs[defName(e)].(map[string]any)
	props, _ := def["properties"].(map[string]any)
	discriminator := func(name string) bool {
		p, _ := props[name].(map[string]any)
		enum, _ := p["enum"].([]any)
		return len(enum) == 1
	}
	var found bool
	var walk func(*jsonschema.ValidationError)
	walk = func(c *jsonschema.ValidationError) {
		switch k := c.ErrorKind.(type) {
		case *kind.Required:
			if slices.Equal(c.InstanceLocation, loc) && slices.ContainsFunc(k.Missing, discriminator) {
				found = true
			}
		case *kind.Enum:
			if n := len(loc); len(c.InstanceLocation) == n+1 && slices.Equal(c.InstanceLocation[:n], loc) &&
				discriminator(c.InstanceLocation[n]) {
				found = true
			}
		}
		for _, cc := range c.Causes {
			walk(cc)
		}
	}
	walk(e)
	return found
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + pointerToken(t))
	}
	return b.String()
}

func pointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func jsonText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = jsonText(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
