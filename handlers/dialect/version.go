package dialect

import "github.com/paypage/paypage/store"

// Version headers. Stripe's clients always send Stripe-Version; paypage's
// own header names any version, Stripe's included.
const (
	HeaderPaypageVersion = "Paypage-Version"
	HeaderStripeVersion  = "Stripe-Version"
)

// Version is the API version that answers a request, and its dialect.
type Version struct {
	Name    string
	Dialect *Dialect
	// Param is the header that named it, for errors ("" for the pinned one).
	Param string
}

// ForVersion is the dialect of an API version, if there is one.
func ForVersion(v string) (*Dialect, bool) {
	switch {
	case v == store.APIVersionNative:
		return Native, true
	case v == store.APIVersionBLIK:
		return BLIK, true
	case store.IsStripeVersion(v):
		return Stripe, true
	}
	return nil, false
}

// Resolve picks the version of a request: the Paypage-Version header, else
// the Stripe-Version header (which only ever names Stripe's dialect), else
// the merchant's pinned version. A header naming no version is a 400 that
// names the header.
func Resolve(paypageHeader, stripeHeader, pinned string) (Version, error) {
	name, param := pinned, ""
	switch {
	case paypageHeader != "":
		name, param = paypageHeader, HeaderPaypageVersion
	case stripeHeader != "":
		if !store.IsStripeVersion(stripeHeader) {
			return Version{}, store.Invalid(HeaderStripeVersion, "Stripe-Version %q is not a Stripe API version (like %s).", stripeHeader, store.APIVersionStripe)
		}
		name, param = stripeHeader, HeaderStripeVersion
	}
	if name == "" {
		name = store.APIVersionNative
	}
	d, ok := ForVersion(name)
	if !ok {
		if param == "" {
			param = "api_version"
		}
		return Version{}, store.ValidateAPIVersion(param, name)
	}
	return Version{Name: name, Dialect: d, Param: param}, nil
}
