package seed002

import (
	"encoding/json"
	"regexp"
	"strings"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

// The example writes the currency as {"iso": "usd", "scale": 2}.
var isoRe = regexp.MustCompile(`^[a-z]{3}$`)

// unixSeconds: the document's only timestamp with a value
// (price_data.created) is an integer, so timestamps are unix seconds.
func unixSeconds() c.Schema {
	return c.Integer().Where("a unix timestamp in seconds", func(v any) bool {
		n, err := v.(json.Number).Int64()
		return err == nil && n >= 0 && n < 1e11
	})
}

// Top-level references the example shows as ids; with expand they may be
// objects.
var expandable = []string{"customer", "payment_intent", "setup_intent", "payment_link"}

func str() c.Schema { return c.String() }

func nstr() c.Schema { return c.String().Null() }

var stringMap = c.Map(c.String())

var lineItem = c.Object(
	c.Field("quantity", c.Integer()),
	c.Field("price_data", c.Object(
		c.Field("active", c.Bool()),
		c.Field("billing_scheme", str()),
		c.Field("created", unixSeconds()),
		c.Field("currency", str()),
		c.Field("livemode", c.Bool()),
		c.Field("lookup_key", nstr()),
		c.Field("product", str()),
		c.Field("product_data", c.Object(
			c.Field("active", c.Bool()),
			c.Field("name", str()),
			c.Field("description", nstr()),
			c.Field("unit_label", nstr()),
			c.Field("id", str()),
		)),
		c.Field("recurring", c.Object(
			c.Field("interval", str()),
			c.Field("interval_count", c.Integer()),
			c.Field("meter", nstr()),
			c.Field("usage_type", str()),
		).Null()),
		c.Field("type", str()),
		c.Field("unit_amount", c.Integer().Null()),
		c.Field("unit_amount_decimal", nstr()),
		c.Field("id", str()),
	)),
	c.Field("metadata", stringMap),
)

func schema(expanded map[string]bool) c.Schema {
	ref := func(name string) c.Prop {
		if expanded[name] {
			return c.Field(name, c.Any().Where("an id string or an expanded object with an id", func(v any) bool {
				if _, ok := v.(string); ok {
					return true
				}
				id, ok := c.Get(v, "id")
				_, isStr := id.(string)
				return ok && isStr
			}).Null())
		}
		return c.Field(name, nstr())
	}
	return c.Object(
		c.Field("id", str().NonEmpty()),
		c.Field("currency", c.Object(
			c.Field("iso", str().Match("a lower-case three-letter ISO 4217 code", isoRe.MatchString)),
			c.Field("scale", c.Integer().Where("a non-negative scale", func(v any) bool {
				n, err := v.(json.Number).Int64()
				return err == nil && n >= 0
			})),
		)),
		c.Field("description", nstr()),
		c.Field("mode", str()),
		c.Field("ui_mode", str()),
		c.Field("amount_total", c.Integer()),
		c.Field("url", str()),
		c.Field("cancel_url", nstr()),
		c.Field("success_url", nstr()),
		c.Field("return_url", nstr()),
		c.Field("payment_method_types", c.Array(str())),
		c.Field("submit_type", str()),
		c.Field("wallet_options", c.Object(
			c.Field("apple_pay", c.Object(c.Field("display", str())).Null()),
			c.Field("google_pay", c.Object(c.Field("display", str())).Null()),
		).Null()),
		c.Field("client_reference_id", nstr()),
		c.Field("client_customer_id", nstr()),
		c.Field("expires_at", unixSeconds().Null()),
		c.Field("line_items", c.Array(lineItem)),
		c.Field("saved_payment_method_options", c.Object(
			c.Field("payment_method_save", str()),
		).Null()),
		c.Field("metadata", stringMap),
		c.Field("after_completion", c.Object(
			c.Field("type", str()),
			c.Field("redirect", c.Object(c.Field("url", str())).Null()),
			c.Field("hosted", c.Object(c.Field("custom_message", nstr())).Null()),
		).Null()),
		c.Field("locale", nstr()),
		ref("customer"),
		c.Field("customer_email", nstr()),
		c.Field("customer_creation", str()),
		ref("payment_intent"),
		ref("setup_intent"),
		ref("payment_link"),
		c.Field("payment_status", str()),
		c.Field("status", str()),
		c.Field("next_action", c.Object(
			c.Field("redirect_to_url", c.Object(
				c.Field("return_url", nstr()),
				c.Field("url", nstr()),
			).Null()),
			c.Field("type", str()),
			c.Field("three_d_secure", c.Object(
				c.Field("flow", str()),
				c.Field("status_url", str()),
				c.Field("return_url", nstr()),
				c.Field("message", c.Object(
					c.Field("allowed_origins", c.Array(str())),
				).Null()),
				c.Field("hint", c.Object(
					c.Field("scheme", str()),
					c.Field("version", str()),
				).Null()),
				c.Field("idempotency_key", nstr()),
			).Null()),
		).Null()),
		c.Field("livemode", c.Bool()),
		c.Field("billing_address_collection", str()),
	)
}

// Check reports every way raw (a 200 body of a call without expand) breaks
// the document's example: every property it shows must be present with the
// JSON type it shows. Null is accepted where the example shows null, and for
// references and optional objects a session may lack (customer,
// payment_intent, setup_intent, payment_link, wallet_options,
// saved_payment_method_options, after_completion, next_action and their
// optional members, recurring, product description/unit_label). The
// document gives no enum sets, so string values are not restricted.
// Properties the example does not show are not checked.
func Check(raw []byte) []string {
	return CheckExpanded(raw)
}

// CheckExpanded is Check for a call made with the given expand fields: an
// expanded reference may be an object carrying an "id" string instead of an
// id string.
func CheckExpanded(raw []byte, expand ...string) []string {
	ex := map[string]bool{}
	var fields []string
	for _, f := range expand {
		fields = append(fields, strings.Split(f, ",")...)
	}
	for _, f := range fields {
		for _, e := range expandable {
			if f == e {
				ex[f] = true
			}
		}
	}
	return c.Validate(raw, schema(ex))
}
