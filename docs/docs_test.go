package docs

import (
	"encoding/json"
	"testing"
)

func TestTranslateNullable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in, want string
	}{
		{"typed", `{"type":"string","nullable":true,"maxLength":5}`, `{"maxLength":5,"type":["string","null"]}`},
		{"enum", `{"type":"string","enum":["open"],"nullable":true}`, `{"enum":["open",null],"type":["string","null"]}`},
		{"anyOf", `{"nullable":true,"anyOf":[{"$ref":"#/components/schemas/price"}]}`,
			`{"anyOf":[{"$ref":"#/$defs/price"},{"type":"null"}]}`},
		{"bare $ref", `{"nullable":true,"$ref":"#/components/schemas/price"}`, `{"anyOf":[{"$ref":"#/$defs/price"},{"type":"null"}]}`},
		{"not nullable, extensions dropped", `{"type":"object","x-source":"A","properties":{"nullable":{"type":"boolean","nullable":false}}}`,
			`{"properties":{"nullable":{"type":"boolean"}},"type":"object"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in map[string]any
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(translate(in, "#/$defs/"))
			if string(out) != tc.want {
				t.Errorf("translate(%s)\n got %s\nwant %s", tc.in, out, tc.want)
			}
		})
	}
}

// The served document holds Stripe's every schema, references resolved
// among its own components.
func TestOpenAPIHoldsStripesSchemas(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	stripe, err := StripeSchemas("")
	if err != nil {
		t.Fatal(err)
	}
	for name := range stripe {
		if _, ok := doc.Components.Schemas[StripePrefix+name]; !ok {
			t.Errorf("OpenAPI lacks %s%s", StripePrefix, name)
		}
	}
	if _, ok := doc.Components.Schemas["CheckoutSession"]; !ok {
		t.Error("OpenAPI lost paypage's own CheckoutSession")
	}
}
