package seed004

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

// Statuses is the session status set: the schema's "Allowed values"
// (PENDING, SUCCEEDED, FAILED) plus the three the refunds description names
// (PARTIALLY_REFUNDED, REFUNDED, REVERSED).
var Statuses = []string{"PENDING", "SUCCEEDED", "FAILED", "PARTIALLY_REFUNDED", "REFUNDED", "REVERSED"}

// PaidStatuses are the statuses in which refunds is populated (an array);
// in every other status it is null.
var PaidStatuses = []string{"SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED", "REVERSED"}

// RefundStatuses: the document shows only "PENDING"; the rest is issue 11's
// refund lifecycle (pending → succeeded | failed | canceled) in the
// document's upper-case style.
var RefundStatuses = []string{"PENDING", "SUCCEEDED", "FAILED", "CANCELED"}

var (
	// ISO 8601, UTC, milliseconds: "2024-01-15T12:00:00.000Z".
	timeRe      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	upperSnake  = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	currencyRe  = regexp.MustCompile(`^[A-Z]{3}$`)
	decimalText = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
)

func isoMillisUTC() c.Schema {
	return c.String().Match("ISO 8601 UTC with milliseconds (2024-01-15T12:00:00.000Z)", func(s string) bool {
		if !timeRe.MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	})
}

func code() c.Schema {
	return c.String().Match("an UPPER_SNAKE code", upperSnake.MatchString)
}

var refund = c.Object(
	c.Field("id", c.String().NonEmpty()),
	c.Field("amount", c.Number().Where("a plain decimal in major units", func(v any) bool {
		return decimalText.MatchString(string(v.(json.Number)))
	})),
	c.Field("currency", c.String().Match("an upper-case ISO 4217 code", currencyRe.MatchString)),
	c.Field("status", c.String().Enum(RefundStatuses...)),
	c.Field("failureReason", code().Null()),
	c.Field("reason", code().Null()),
	c.Field("createdAt", isoMillisUTC()),
	c.Field("updatedAt", isoMillisUTC()),
)

// The schema marks id, orderReference, status, paymentMethod, createdAt and
// updatedAt Required; failureReason, providerName, expiresAt (typed
// "object", i.e. string-or-null) and refunds may be absent.
var schema = c.Object(
	c.Field("id", c.String().NonEmpty()),
	c.Field("orderReference", c.String()),
	c.Field("status", c.String().Enum(Statuses...)),
	c.Optional("failureReason", code().Null()),
	c.Optional("providerName", c.String().Null()),
	c.Field("paymentMethod", c.String()),
	c.Optional("expiresAt", isoMillisUTC().Null()),
	c.Field("createdAt", isoMillisUTC()),
	c.Field("updatedAt", isoMillisUTC()),
	c.Optional("refunds", c.Array(refund).Null()),
)

// Check reports every way raw (a 200 body) breaks the document: required
// properties, JSON types, the status sets, ISO 8601 UTC millisecond times,
// upper-snake reason codes, upper-case currencies, decimal refund amounts,
// and refunds populated (an array) exactly when the status is SUCCEEDED,
// PARTIALLY_REFUNDED, REFUNDED or REVERSED, null (or absent) otherwise; a
// (PARTIALLY_)REFUNDED session must list at least one refund.
// Properties the document does not mention are not checked. An empty result
// means raw conforms.
func Check(raw []byte) []string {
	v, err := c.Decode(raw)
	if err != nil {
		return []string{"$: not valid JSON: " + err.Error()}
	}
	out := c.Walk(v, schema)
	status, _ := c.Get(v, "status")
	st, _ := status.(string)
	paid := false
	for _, p := range PaidStatuses {
		paid = paid || st == p
	}
	refunds, _ := c.Get(v, "refunds")
	switch {
	case paid && refunds == nil:
		out = append(out, fmt.Sprintf("$.refunds: null or absent on a %s session (populated in SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED, REVERSED)", st))
	case !paid && refunds != nil:
		out = append(out, fmt.Sprintf("$.refunds: not null on a %s session (null unless SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED, REVERSED)", st))
	case (st == "PARTIALLY_REFUNDED" || st == "REFUNDED") && isEmptyArray(refunds):
		out = append(out, fmt.Sprintf("$.refunds: empty on a %s session", st))
	}
	return out
}

func isEmptyArray(v any) bool {
	a, ok := v.([]any)
	return ok && len(a) == 0
}

// CheckError reports every way an error answer breaks the document's error
// body: a JSON object with "error" and "message" strings, an integer "code"
// equal to the HTTP status, and "requestId", when present, a string.
func CheckError(status int, raw []byte) []string {
	v, err := c.Decode(raw)
	if err != nil {
		return []string{"$: not valid JSON: " + err.Error()}
	}
	out := c.Walk(v, c.Object(
		c.Field("error", c.String().NonEmpty()),
		c.Field("message", c.String().NonEmpty()),
		c.Field("code", c.Integer()),
		c.Optional("requestId", c.String()),
	))
	if n, ok := c.Get(v, "code"); ok {
		if num, isNum := n.(json.Number); isNum && num.String() != fmt.Sprint(status) {
			out = append(out, fmt.Sprintf("$.code: %s differs from the HTTP status %d", num, status))
		}
	}
	return out
}
