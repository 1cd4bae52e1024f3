// Package dialect renders paypage's one checkout-session model in each wire
// dialect of the merchant API: paypage's own (native), Stripe's exactly
// (stripe), and the seed systems' (one file each). A dialect is a presenter
// over the store's model plus its error envelope; the handlers bind
// requests, authenticate, read the store and hand the result here. Nothing
// here touches the store or the request.
//
// Which dialect answers a request on Stripe's paths is decided by API
// version (For): a Paypage-Version header, else a Stripe-Version header
// (Stripe's clients always send one), else the merchant's pinned version.
// The seed systems that have paths of their own are routed there by the
// handlers (app.go).
package dialect

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paypage/paypage/store"
)

// Dialect is one wire shape of the API.
type Dialect struct {
	// Name is what the docs and logs call it.
	Name string
	// Session renders a session with the parts v.Expand asks for.
	Session func(v *View) any
	// LineItem renders one line item of s (for line_items lists).
	LineItem func(v *View, li store.LineItem) any
	// Expandable are the expand[] values a session answer takes (a list's
	// take them with "data." in front).
	Expandable []string
	// ItemExpandable are the expand[] values of a line_items list.
	ItemExpandable []string
	// Error renders an error answer's body.
	Error func(e Error) any
	// Route is how a seed system with a path of its own is called; nil for
	// the dialects answered on Stripe's paths by version.
	Route *Route
}

// View is what a presenter renders: a session as the store read it (the
// clock applied, line items, fees and refunds loaded), its merchant, and what
// the request asked to include.
type View struct {
	Session  *store.Session
	Merchant *store.Merchant
	BaseURL  string // public URL of paypage, no trailing slash
	Expand   Expand
	// Children are the recovery sessions started from this one, newest
	// first, when Expand.ChildSessions (with their own line items etc.).
	Children     []*store.Session
	ChildrenMore bool
	// ShopperToken mints the token a merchant's front end hands to
	// paypage's shopper-facing endpoints for this one session (seed 003's
	// hcpToken); set by the handlers, who hold the keys.
	ShopperToken func(s *store.Session) string
}

// child is the view of one of v's children, for rendering it in a list.
func (v *View) child(s *store.Session) *View {
	return &View{Session: s, Merchant: v.Merchant, BaseURL: v.BaseURL}
}

// PageURL is the hosted page of the session.
func (v *View) PageURL() string { return v.BaseURL + "/pay/" + v.Session.ID }

// Expand says which optional parts of a session to include.
type Expand struct {
	LineItems, Appearance, Refunds, ChildSessions, Contract, Estimate bool
	// Products asks for line items' products as objects where the dialect
	// otherwise gives their ids (Stripe's price.product).
	Products bool
	// Customer asks for the customer as an object where the dialect
	// otherwise gives its id (seed 002's customer).
	Customer bool
}

// ParseExpand reads expand[] values for d: prefix is "" for a single object
// and "data." for a list's items. The error names the offending value's
// parameter.
func (d *Dialect) ParseExpand(values []string, prefix string) (Expand, error) {
	var e Expand
	for i, v := range values {
		name, ok := strings.CutPrefix(v, prefix)
		if !ok || !oneOf(name, d.Expandable...) {
			return e, expandError(i, v, prefix, d.Expandable)
		}
		switch name {
		case "line_items":
			e.LineItems = true
		case "line_items.data.price.product":
			e.LineItems, e.Products = true, true
		case "appearance":
			e.Appearance = true
		case "refunds":
			e.Refunds = true
		case "child_sessions":
			e.ChildSessions = true
		case "contract":
			e.Contract = true
		case "estimate":
			e.Estimate = true
		}
	}
	return e, nil
}

// ParseItemExpand reads the expand[] values of a line_items list.
func (d *Dialect) ParseItemExpand(values []string) (Expand, error) {
	var e Expand
	for i, v := range values {
		if !oneOf(v, d.ItemExpandable...) {
			return e, expandError(i, v, "", d.ItemExpandable)
		}
		e.Products = e.Products || v == "data.price.product"
	}
	return e, nil
}

func expandError(i int, v, prefix string, allowed []string) error {
	names := make([]string, len(allowed))
	for j, a := range allowed {
		names[j] = prefix + a
	}
	return store.Invalid("expand["+strconv.Itoa(i)+"]", "This property cannot be expanded (%s). Expandable: %s.", v, strings.Join(names, ", "))
}

// Error is an error answer as the one error mapper (handlers/errors.go)
// decided it: status and Stripe's fields, which each dialect words its way.
type Error struct {
	Status    int
	Type      string // Stripe's error type: invalid_request_error, api_error, idempotency_error
	Code      string // Stripe's error code, when there is one
	Message   string
	Param     string
	RequestID string
}

// stripeError is Stripe's error envelope, which native shares.
type stripeError struct {
	Type      string `json:"type"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// StripeError renders e in Stripe's envelope {"error": {…}}.
func StripeError(e Error) any {
	return map[string]stripeError{"error": {Type: e.Type, Code: e.Code, Message: e.Message, Param: e.Param, RequestID: e.RequestID}}
}

// List is Stripe's list envelope.
type List[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// NewList returns a list object; data may be nil (an empty list).
func NewList[T any](url string, data []T, more bool) *List[T] {
	if data == nil {
		data = []T{}
	}
	return &List[T]{Object: "list", Data: data, HasMore: more, URL: url}
}

// Sessions renders a page of sessions as a list of d's objects.
func (d *Dialect) Sessions(path string, views []*View, more bool) *List[any] {
	data := make([]any, len(views))
	for i, v := range views {
		data[i] = d.Session(v)
	}
	return NewList(path, data, more)
}

// LineItems renders a page of v's line items as a list of d's objects.
func (d *Dialect) LineItems(v *View, items []store.LineItem, more bool) *List[any] {
	data := make([]any, len(items))
	for i, li := range items {
		data[i] = d.LineItem(v, li)
	}
	return NewList("/v1/checkout/sessions/"+url.PathEscape(v.Session.ID)+"/line_items", data, more)
}

// Nullable is s, or null when it is "" (how absent values are sent).
func Nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// OrEmpty is m, or {} for none (maps are sent as objects, never null).
func OrEmpty(m store.Metadata) store.Metadata {
	if m == nil {
		return store.Metadata{}
	}
	return m
}

// isoSeconds is a unix time as ISO 8601 (RFC 3339) in UTC, to the second.
func isoSeconds(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// isoMillis is a unix time as ISO 8601 in UTC with milliseconds.
func isoMillis(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("2006-01-02T15:04:05.000Z")
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }

// Route is how the clients of a seed system with a path of its own call it
// (the path itself is in handlers/app.go, with every route).
type Route struct {
	// KeyHeader carries the secret key; "" for Authorization (Bearer, or
	// Basic with the key as the user name).
	KeyHeader string
	// MerchantHeader, when set, names the merchant the caller claims to be
	// (required): a key of another merchant is refused (403).
	MerchantHeader string
	// AuthStatus is the status of a refused authentication (no key, an
	// unknown key, no merchant header); 0 means paypage's 401. Seed 003
	// gives 401 another meaning (an expired session) and refuses with 403.
	AuthStatus int
	// Options reads the query string into what to include; nil: the route
	// takes no parameters.
	Options func(q url.Values) (Expand, error)
	// Refuse, when set, answers some states with errors of the system's
	// own (seed 003 answers an expired session 401): nil means the session
	// is answered as it is.
	Refuse func(v *View) error
}

// StatusError is an answer a dialect words itself: its status and code.
type StatusError struct {
	Status  int
	Code    string
	Message string
}

func (e *StatusError) Error() string { return e.Message }
