// Package docs holds paypage's API documents, embedded so that the server
// serves the very files that are in the repository.
package docs

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// native is openapi.json as written: paths, paypage's own schemas, and
// references to Stripe's ("stripe.<name>"), which OpenAPI adds.
//
//go:embed openapi.json
var native []byte

// StripeSchema is stripe/checkout-session.schema.json: Stripe's published
// checkout.session schema and everything it references, in OpenAPI 3.0's
// dialect (see stripe/README.md).
//
//go:embed stripe/checkout-session.schema.json
var StripeSchema []byte

// StripePrefix names Stripe's schemas among OpenAPI's components.
const StripePrefix = "stripe."

// OpenAPI is the OpenAPI 3.1 description of the JSON API: openapi.json with
// Stripe's schemas added as components "stripe.<name>", so that the strict
// Stripe dialect is described by Stripe's own schema and cannot drift.
var OpenAPI = func() []byte {
	doc, err := build()
	if err != nil {
		panic(err) // both inputs are embedded: caught by every test
	}
	return doc
}()

func build() ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(native))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("docs: openapi.json: %w", err)
	}
	stripe, err := StripeSchemas("#/components/schemas/" + StripePrefix)
	if err != nil {
		return nil, err
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, s := range stripe {
		delete(s, "format") // Stripe's own formats mean nothing to OpenAPI tools
		schemas[StripePrefix+name] = s
	}
	return json.MarshalIndent(doc, "", "  ")
}

// StripeSchemas returns Stripe's schemas translated from OpenAPI 3.0 into
// JSON Schema 2020-12 (which OpenAPI 3.1 speaks), their references pointing
// at refPrefix+name. The translation: nullable becomes a "null" type (and
// null joins an enum) or one more "null" alternative where the node has
// anyOf/$ref and no type; x- extensions go. required stays as it is: Stripe
// always sends its nullable properties, as null when unset.
func StripeSchemas(refPrefix string) (map[string]map[string]any, error) {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	dec := json.NewDecoder(bytes.NewReader(StripeSchema))
	dec.UseNumber() // numbers stay as written, whatever reads them next
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("docs: stripe schema: %w", err)
	}
	if len(doc.Components.Schemas) == 0 {
		return nil, fmt.Errorf("docs: stripe schema has no components.schemas")
	}
	out := make(map[string]map[string]any, len(doc.Components.Schemas))
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		out[name] = translate(doc.Components.Schemas[name], refPrefix)
	}
	return out, nil
}

// translate turns one OpenAPI 3.0 schema node into JSON Schema. Property
// names and enum values are data, never keywords: they are copied as is.
func translate(node map[string]any, refPrefix string) map[string]any {
	out := make(map[string]any, len(node))
	for k, v := range node {
		switch {
		case k == "nullable", strings.HasPrefix(k, "x-"):
		case k == "$ref":
			out[k] = strings.Replace(v.(string), "#/components/schemas/", refPrefix, 1)
		case k == "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				props[name] = translate(p.(map[string]any), refPrefix)
			}
			out[k] = props
		case k == "items" || k == "additionalProperties":
			if sub, ok := v.(map[string]any); ok {
				out[k] = translate(sub, refPrefix)
			} else {
				out[k] = v
			}
		case k == "anyOf" || k == "oneOf" || k == "allOf":
			var subs []any
			for _, sub := range v.([]any) {
				subs = append(subs, translate(sub.(map[string]any), refPrefix))
			}
			out[k] = subs
		default:
			out[k] = v
		}
	}
	if node["nullable"] == true {
		out = nullable(out)
	}
	return out
}

func nullable(s map[string]any) map[string]any {
	null := map[string]any{"type": "null"}
	switch {
	case s["type"] != nil:
		if t, ok := s["type"].(string); ok {
			s["type"] = []any{t, "null"}
		}
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, nil) {
			s["enum"] = append(enum, nil)
		}
	case s["anyOf"] != nil:
		s["anyOf"] = append(s["anyOf"].([]any), null)
	case s["$ref"] != nil:
		// In OpenAPI 3.0 a $ref's siblings are ignored; this one has none.
		return map[string]any{"anyOf": []any{map[string]any{"$ref": s["$ref"]}, null}}
	}
	return s
}
