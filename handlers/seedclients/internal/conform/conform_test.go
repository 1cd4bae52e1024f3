package conform_test

import (
	"reflect"
	"testing"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

func TestValidate(t *testing.T) {
	schema := c.Object(
		c.Field("s", c.String().Enum("a", "b")),
		c.Field("i", c.Integer()),
		c.Field("n", c.Number().Null()),
		c.Optional("o", c.Object(c.Field("x", c.Bool()))),
		c.Field("m", c.Map(c.String())),
		c.Field("arr", c.Array(c.String().NonEmpty())),
	)
	cases := []struct {
		name string
		raw  string
		want []string
	}{
		{"conforms, extra property ignored", `{"s":"a","i":1,"n":null,"m":{},"arr":["x"],"extra":1}`, nil},
		{"optional present and wrong", `{"s":"a","i":1,"n":1.5,"m":{},"arr":[],"o":{"x":"no"}}`,
			[]string{`$.o.x: want boolean, got string "no"`}},
		{"integer written with a fraction", `{"s":"a","i":1.0,"n":1,"m":{},"arr":[]}`,
			[]string{`$.i: want integer, got number 1.0`}},
		{"integer in exponent form", `{"s":"a","i":1e3,"n":1,"m":{},"arr":[]}`,
			[]string{`$.i: want integer, got number 1e3`}},
		{"enum, null, missing, map value, array element", `{"s":"c","i":null,"m":{"k":1},"arr":[""]}`, []string{
			`$.s: "c" is not one of a|b`,
			`$.i: is null, want integer`,
			`$.n: required property is missing`,
			`$.m.k: want string, got integer 1`,
			`$.arr[0]: is empty`,
		}},
		{"not an object", `[]`, []string{`$: want object, got array`}},
		{"trailing data", `{} {}`, []string{`$: not valid JSON: trailing data after the JSON value`}},
		{"empty body", ``, []string{`$: not valid JSON: EOF`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Validate([]byte(tc.raw), schema)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate = %q\nwant       %q", got, tc.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	v, err := c.Decode([]byte(`{"a":{"b":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(v, "a", "b"); !ok || got != "x" {
		t.Errorf("Get(a,b) = %v, %v", got, ok)
	}
	if _, ok := c.Get(v, "a", "b", "c"); ok {
		t.Error("Get through a string succeeded")
	}
	if _, ok := c.Get(v, "z"); ok {
		t.Error("Get of a missing key succeeded")
	}
}
