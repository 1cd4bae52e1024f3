package dialect

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/paypage/paypage/store"
)

// Checkout is seed 003's dialect, the merchant checkout's "Get Checkout
// Session Details": GET /v1/checkout-sessions/{id}[?init=true] with
// X-Merchant-Id and the secret key as a Bearer token (never the merchant id
// alone). The answer is {"data": {"checkoutSession": {…}, "hcpToken": "…"}}
// with camelCase names, upper-case words and ISO 8601 times in UTC.
//
// The document lists both a states table (EXPIRED "represented as INITIATED
// with isExpired() = true", CANCELED) and error answers (401 "if the session
// has expired", 410 "if the session has been canceled"). They are reconciled
// so: a canceled session is a 410; an expired session is a 401, unless a
// recovery child continues it ("the parent session contains the child
// session ID and child session details"): then it is a 200, INITIATED with
// "expired": true and its childSession. The other words:
//   - open and processing are INITIATED; a declined attempt is FAILED with
//     its failureReason, which is not final: the shopper may retry, and a
//     later payment reads COMPLETED;
//   - complete is COMPLETED (refunds and a reversal show in paymentStatus);
//   - an expired parent paid through its recovery child is COMPLETED ("status
//     changes in the child can affect the parent session"), with the
//     child's payment in paymentStatus and paymentMethod.
//
// A refused authentication is a 403, as "merchant not authorized": 401 means
// an expired session here. init=true adds appearance and cardCategories.
var Checkout = &Dialect{
	Name: "checkout",
	Session: func(v *View) any {
		return checkoutAnswer{Data: checkoutData{Session: checkoutSession(v, true), HCPToken: v.ShopperToken(v.Session)}}
	},
	Error: checkoutError,
	Route: &Route{MerchantHeader: "X-Merchant-Id", AuthStatus: http.StatusForbidden,
		Options: checkoutOptions, Refuse: checkoutRefuse},
}

// CheckoutShopperSession is what an hcpToken opens: the session as the
// merchant's retrieve answers it with init=true, but for the token itself.
// Nothing in it is secret or personal: it is what the shopper's page shows.
func CheckoutShopperSession(v *View) any {
	return checkoutAnswer{Data: checkoutData{Session: checkoutSession(v, true)}}
}

type checkoutAnswer struct {
	Data checkoutData `json:"data"`
}

type checkoutData struct {
	Session  *checkoutSessionObject `json:"checkoutSession"`
	HCPToken string                 `json:"hcpToken,omitempty"`
}

type checkoutSessionObject struct {
	ID                    string                 `json:"id"`
	CheckoutSessionStatus string                 `json:"checkoutSessionStatus"`
	Expired               bool                   `json:"expired"`
	PaymentStatus         string                 `json:"paymentStatus"`
	FailureReason         *string                `json:"failureReason"`
	CreatedAt             string                 `json:"createdAt"`
	UpdatedAt             string                 `json:"updatedAt"`
	ExpiresAt             string                 `json:"expiresAt"`
	PaymentMethod         *checkoutPaymentMethod `json:"paymentMethod"`
	ChildSession          *checkoutSessionObject `json:"childSession"`
	// Only with init=true; cardCategories is then null (see checkoutSession).
	Appearance     *checkoutAppearance `json:"appearance,omitempty"`
	CardCategories json.RawMessage     `json:"cardCategories,omitempty"`
}

type checkoutPaymentMethod struct {
	Type     *string `json:"type"`     // CARD, BLIK…
	Provider *string `json:"provider"` // the provider that took it
}

type checkoutAppearance struct {
	DisplayName     *string `json:"displayName"`
	LogoURL         *string `json:"logoUrl"`
	BrandColor      *string `json:"brandColor"`
	ButtonColor     *string `json:"buttonColor"`
	BackgroundColor *string `json:"backgroundColor"`
	BorderStyle     *string `json:"borderStyle"`
	FontFamily      *string `json:"fontFamily"`
	Theme           *string `json:"theme"`
}

// checkoutSession renders v's session; withChild adds its childSession (a
// child's own object has none: a recovery is one level deep).
func checkoutSession(v *View, withChild bool) *checkoutSessionObject {
	s := v.Session
	o := &checkoutSessionObject{
		ID: s.ID, CheckoutSessionStatus: "INITIATED", PaymentStatus: upperSnake(s.PaymentStatus),
		CreatedAt: isoSeconds(s.Created), UpdatedAt: isoSeconds(max(s.Updated, s.Created)), ExpiresAt: isoSeconds(s.ExpiresAt),
	}
	paid := s // whose payment the object shows
	var child *store.Session
	if len(v.Children) > 0 {
		child = v.Children[0] // one recovery per parent: store.Recover
	}
	switch s.Status {
	case store.StatusOpen:
		if s.PaymentStatus == store.PaymentFailed {
			o.CheckoutSessionStatus = "FAILED"
		}
	case store.StatusComplete:
		o.CheckoutSessionStatus = "COMPLETED"
	case store.StatusExpired:
		o.Expired = true
		if s.SettledBy != "" {
			o.CheckoutSessionStatus, o.Expired = "COMPLETED", false
			if child != nil && child.ID == s.SettledBy {
				paid = child
				o.PaymentStatus = upperSnake(child.PaymentStatus)
			}
		}
	case store.StatusCanceled:
		o.CheckoutSessionStatus = "CANCELED"
	}
	if paid.PaymentStatus == store.PaymentFailed || paid.PaymentStatus == store.PaymentReversed {
		o.FailureReason = Nullable(upperSnake(paid.FailureReason))
	}
	if paid.PaymentMethod != "" || paid.Provider != "" {
		o.PaymentMethod = &checkoutPaymentMethod{Type: Nullable(upperSnake(paid.PaymentMethod)), Provider: Nullable(paid.Provider)}
	}
	if withChild && child != nil {
		o.ChildSession = checkoutSession(v.child(child), false)
	}
	if withChild && v.Expand.Appearance {
		a := SessionAppearance(v.Merchant, s)
		o.Appearance = &checkoutAppearance{
			DisplayName: Nullable(a.DisplayName), LogoURL: Nullable(a.LogoURL), BrandColor: Nullable(a.BrandColor),
			ButtonColor: Nullable(a.ButtonColor), BackgroundColor: Nullable(a.BackgroundColor),
			BorderStyle: Nullable(a.BorderStyle), FontFamily: Nullable(a.FontFamily), Theme: Nullable(a.Theme),
		}
		// paypage keeps no card categories: cards are taken at the
		// merchant's provider, which decides which it accepts. null says
		// "no restriction paypage knows of", where [] would say "none".
		o.CardCategories = json.RawMessage("null")
	}
	return o
}

// checkoutOptions reads the query: init=true|false (any case), once; any
// other parameter is refused, naming it.
func checkoutOptions(q url.Values) (Expand, error) {
	e := Expand{ChildSessions: true} // childSession is always part of the answer
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name != "init" {
			shown := strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", "\uFFFD"), "\uFFFD")
			return e, &store.Error{Code: store.EINVALID, Param: shown, Reason: "parameter_unknown",
				Message: "Received unknown parameter: " + shown + ". This endpoint takes only init."}
		}
	}
	switch vals := q["init"]; {
	case len(vals) == 0:
	case len(vals) > 1:
		return e, store.Invalid("init", "init is given %d times: give it once, true or false.", len(vals))
	case strings.EqualFold(vals[0], "true"):
		e.Appearance = true
	case !strings.EqualFold(vals[0], "false"):
		return e, store.Invalid("init", "init must be true or false.")
	}
	return e, nil
}

// checkoutRefuse answers the states the document lists as errors: a
// canceled session (410) and an expired one that no recovery continues
// (401).
func checkoutRefuse(v *View) error {
	switch s := v.Session; {
	case s.Status == store.StatusCanceled:
		return &StatusError{Status: http.StatusGone, Code: "session_canceled",
			Message: "The checkout session " + s.ID + " has been canceled."}
	case s.Status == store.StatusExpired && len(v.Children) == 0:
		return &StatusError{Status: http.StatusUnauthorized, Code: "session_expired",
			Message: "The checkout session " + s.ID + " has expired."}
	}
	return nil
}

type checkoutErrorObject struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// checkoutError is {"error": {"status", "code", "message", "param",
// "requestId"}}: the document gives each status a meaning but no body.
// Codes are upper snake case; a 404 is always SESSION_NOT_FOUND, the only
// thing missing on these paths.
func checkoutError(e Error) any {
	code := upperSnake(e.Code)
	switch {
	case e.Status == http.StatusNotFound:
		code = "SESSION_NOT_FOUND"
	case code == "":
		code = upperSnake(strings.ReplaceAll(http.StatusText(e.Status), " ", "_"))
	}
	return map[string]checkoutErrorObject{"error": {Status: e.Status, Code: code, Message: e.Message, Param: e.Param, RequestID: e.RequestID}}
}
