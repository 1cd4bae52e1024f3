package seed003

import (
	"fmt"
	"regexp"
	"time"

	c "github.com/paypage/paypage/handlers/seedclients/internal/conform"
)

// Statuses is the document's checkoutSessionStatus set (EXPIRED is not a
// value: it is INITIATED with the expired flag).
var Statuses = []string{"INITIATED", "COMPLETED", "FAILED", "CANCELED"}

// An ISO 8601 date-time with a zone designator, as the sample's
// "2023-01-01T12:00:00Z" (fraction allowed).
var isoRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

func isoTime() c.Schema {
	return c.String().Match("an ISO 8601 date-time with zone designator", func(s string) bool {
		if !isoRe.MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	})
}

func schema(init bool) c.Schema {
	session := []c.Prop{
		c.Field("id", c.String().NonEmpty()),
		c.Field("checkoutSessionStatus", c.String().Enum(Statuses...)),
		c.Field("createdAt", isoTime()),
		c.Field("expiresAt", isoTime()),
		// "if available": absent or null when not.
		c.Optional("paymentMethod", c.Object().Null()),
		// "The parent session contains the child session ID and child
		// session details": an object carrying the child's id.
		c.Optional("childSession", c.Object(c.Field("id", c.String().NonEmpty())).Null()),
		c.Optional("expired", c.Bool()),
	}
	if init {
		session = append(session,
			c.Field("appearance", c.Object()),
			c.Field("cardCategories", c.Any().Null()), // shape not documented
		)
	}
	return c.Object(c.Field("data", c.Object(
		c.Field("checkoutSession", c.Object(session...)),
		c.Field("hcpToken", c.String().NonEmpty()),
	)))
}

// Check reports every way raw (a 200 body of a call without init=true)
// breaks the document: the {"data":{"checkoutSession":…,"hcpToken":…}}
// envelope, the status set, ISO 8601 times, object-typed paymentMethod and
// childSession (with the child's id), and appearance/cardCategories absent
// ("omitted by default"). An expired flag, if sent, must be a boolean and
// only on an INITIATED session. Properties the document does not mention
// are not checked. An empty result means raw conforms.
func Check(raw []byte) []string { return check(raw, false) }

// CheckInit is Check for a call made with init=true: appearance (an object)
// and cardCategories must be present.
func CheckInit(raw []byte) []string { return check(raw, true) }

func check(raw []byte, init bool) []string {
	v, err := c.Decode(raw)
	if err != nil {
		return []string{"$: not valid JSON: " + err.Error()}
	}
	out := c.Walk(v, schema(init))
	cs, _ := c.Get(v, "data", "checkoutSession")
	if !init {
		for _, k := range []string{"appearance", "cardCategories"} {
			if _, present := c.Get(cs, k); present {
				out = append(out, fmt.Sprintf("$.data.checkoutSession.%s: present without init=true (the document omits it by default)", k))
			}
		}
	}
	if exp, _ := c.Get(cs, "expired"); exp == true {
		if st, _ := c.Get(cs, "checkoutSessionStatus"); st != "INITIATED" {
			out = append(out, fmt.Sprintf("$.data.checkoutSession.expired: true on a %v session (an expired session is INITIATED)", st))
		}
	}
	return out
}
