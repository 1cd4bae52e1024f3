package seed000

import (
	"regexp"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

// Status sets, exactly as the document lists them.
var (
	CheckoutSessionStatuses = []string{"open", "processing", "completed", "closed", "cancelled"}
	PaymentStatuses         = []string{"not_started", "pending", "paid", "failed", "no_payment_required"}
)

// isoRe is an ISO 8601 extended-format date-time: date, "T", time with
// seconds, optional fraction, optional zone designator.
var isoRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$`)

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

func isoTime() c.Schema {
	return c.String().Match("an ISO 8601 date-time", func(s string) bool {
		_, err := ParseTime(s)
		return err == nil
	})
}

func upperCurrency() c.Schema {
	return c.String().Match("an upper-case ISO 4217 code", currencyRe.MatchString)
}

// schema is the document's property list with the types it implies. Every
// property must be present; those whose description makes them conditional
// ("if one has been created", timestamps of events that may not have
// happened, optional configuration) may be null.
var schema = c.Object(
	c.Field("id", c.String().NonEmpty()),
	c.Field("checkout_session_status", c.String().Enum(CheckoutSessionStatuses...)),
	c.Field("payment_status", c.String().Enum(PaymentStatuses...)),
	c.Field("contract", c.Object()),
	c.Field("guest_checkout", c.Bool()),
	c.Field("contract_id", c.String().Null()),
	c.Field("execution_id", c.String().Null()),
	c.Field("confirmed_at", isoTime().Null()),
	c.Field("paid_at", isoTime().Null()),
	c.Field("payment_intent_id", c.String().Null()),
	c.Field("estimates", c.Object(
		c.Field("estimation_id", c.String().Null()),
		c.Field("current_invoice", c.Object().Null()),
		c.Field("future_invoices", c.Array(c.Any()).Null()),
		c.Field("amount_due", c.Number().Null()),
		c.Field("credit_notes", c.Array(c.Any()).Null()),
	).Null()),
	c.Field("customer_id", c.String().Null()),
	c.Field("business_entity_id", c.String().Null()),
	c.Field("customer_data", c.Object().Null()),
	c.Field("expires_at", isoTime()),
	c.Field("last_activity_at", isoTime().Null()),
	c.Field("completed_at", isoTime().Null()),
	c.Field("created_at", isoTime()),
	c.Field("updated_at", isoTime()),
	c.Field("idempotency_key", c.String().Null()),
	c.Field("correlation_id", c.String().Null()),
	c.Field("currency", upperCurrency()),
	c.Field("display_currency", upperCurrency().Null()),
	c.Field("success_url", c.String().Null()),
	c.Field("cancel_url", c.String().Null()),
	c.Field("pending_url", c.String().Null()),
	c.Field("attribution", c.Object().Null()), // "UTM and attribution data", named by paypage
	c.Field("metadata", c.Object().Null()),
)

// Check reports every way raw (a 200 body) breaks the document's promises:
// missing properties, wrong JSON types, status values outside the document's
// sets, timestamps that are not ISO 8601, currencies that are not upper-case
// ISO 4217. Properties the document does not mention are not checked. An
// empty result means raw conforms.
func Check(raw []byte) []string {
	return c.Validate(raw, schema)
}
