package store

import (
	"regexp"
	"strings"
)

// API versions. Every merchant pins one (Merchant.APIVersion); a request may
// name another. Each version is answered in a dialect of its own by the API
// layer (handlers/dialect): the store only knows their names.
const (
	// APIVersionNative is paypage's own dialect: every field paypage knows,
	// its own status words. New merchants get it.
	APIVersionNative = "paypage-2026-12-01"
	// APIVersionBLIK is seed 001's dialect: Stripe's paths and Basic auth,
	// the BLIK provider's field names and status words.
	APIVersionBLIK = "blik-2026-12-01"
	// APIVersionStripe is the Stripe API version whose published schema the
	// strict Stripe dialect is checked against. Any Stripe version string
	// (as Stripe's clients send in Stripe-Version) selects that dialect.
	APIVersionStripe = "2026-07-29.dahlia"
)

// apiVersions are the versions with a name of paypage's own.
var apiVersions = []string{APIVersionNative, APIVersionBLIK}

// stripeVersionRE is the shape of Stripe's API versions: a date, and since
// 2024 a release name ("2026-07-29.dahlia").
var stripeVersionRE = regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9](\.[a-z]{1,30})?$`)

// IsStripeVersion reports whether v is a Stripe API version string.
func IsStripeVersion(v string) bool { return stripeVersionRE.MatchString(v) }

// ValidateAPIVersion refuses a version that is neither paypage's nor
// Stripe's, naming param.
func ValidateAPIVersion(param, v string) error {
	if oneOf(v, apiVersions...) || IsStripeVersion(v) {
		return nil
	}
	return Invalid(param, "%q is not an API version: use %s, or a Stripe API version such as %s",
		v, strings.Join(apiVersions, ", "), APIVersionStripe)
}
