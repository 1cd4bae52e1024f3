package seed001

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

// Statuses is the document's status set.
var Statuses = []string{"open", "pending", "expired", "completed"}

// PaymentMethodTypes is the document's "Possible values" for
// payment_method_types.
var PaymentMethodTypes = []string{"blik"}

var (
	// The example writes "usd": three lower-case letters.
	currencyRe = regexp.MustCompile(`^[a-z]{3}$`)
	// An IETF (BCP 47) language tag, shape only; "" means the browser's.
	localeRe = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// unixSeconds: an integer count of seconds (the document types timestamps
// "int"; anything from 1e11 up would be milliseconds or later).
func unixSeconds() c.Schema {
	return c.Integer().Where("a unix timestamp in seconds", func(v any) bool {
		n, err := v.(json.Number).Int64()
		return err == nil && n >= 0 && n < 1e11
	})
}

var schema = c.Object(
	c.Field("id", c.String().NonEmpty()),
	c.Field("amount_total", c.Integer()),
	c.Field("amount_subtotal", c.Integer()),  // table
	c.Field("amount_sub_total", c.Integer()), // example
	c.Field("currency", c.String().Match("a lower-case three-letter ISO 4217 code", currencyRe.MatchString)),
	c.Field("success_url", c.String()),
	c.Field("cancel_url", c.String()),
	c.Field("customer_firstname", c.String()),
	c.Field("customer_lastname", c.String()),
	c.Field("customer_email", c.String()),
	c.Field("customer_ip", c.String()),
	c.Field("expires_at", unixSeconds().Null()), // table: int; example: null
	c.Field("expire_at", unixSeconds().Null()),  // example
	c.Field("locale", c.String().Match(`"" or an IETF language tag`, func(s string) bool {
		return s == "" || localeRe.MatchString(s)
	})),
	c.Field("payment_method_types", c.Array(c.String().Enum(PaymentMethodTypes...))),
	c.Field("metadata", c.Object().NonEmpty().Null()), // null, not {}, when empty
	c.Field("created_at", unixSeconds()),
	c.Field("status", c.String().Enum(Statuses...)),
	c.Field("fees", c.Array(c.Any()).NonEmpty().Null()), // null, not [], when empty
	c.Field("livemode", c.Bool()),
	c.Field("url", c.String()), // example
)

// Check reports every way raw (a 200 body) breaks the document's promises.
// Where the table and the example name a property differently, both names
// are required and must agree, so that a client written from either works.
// The example's url must be an absolute URL ending in /pay/<id>. Empty
// metadata and fees must be null, as in the example. Properties the document
// does not mention are not checked. An empty result means raw conforms.
func Check(raw []byte) []string {
	v, err := c.Decode(raw)
	if err != nil {
		return []string{"$: not valid JSON: " + err.Error()}
	}
	out := c.Walk(v, schema)
	for _, pair := range [][2]string{{"amount_subtotal", "amount_sub_total"}, {"expires_at", "expire_at"}} {
		a, okA := c.Get(v, pair[0])
		b, okB := c.Get(v, pair[1])
		if okA && okB && fmt.Sprint(a) != fmt.Sprint(b) {
			out = append(out, fmt.Sprintf("$.%s: %v differs from $.%s: %v (the same property under the table's and the example's name)", pair[1], b, pair[0], a))
		}
	}
	id, _ := c.Get(v, "id")
	if u, ok := c.Get(v, "url"); ok {
		if us, ok := u.(string); ok {
			if msg := checkPayURL(us, fmt.Sprint(id)); msg != "" {
				out = append(out, "$.url: "+msg)
			}
		}
	}
	return out
}

func checkPayURL(s, id string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute URL", s)
	}
	if !strings.HasSuffix(u.EscapedPath(), "/pay/"+url.PathEscape(id)) {
		return fmt.Sprintf("%q does not end in /pay/%s", s, id)
	}
	return ""
}
