// Package seed002 is a client for Paypercut's "Retrieve a Checkout Session"
// API, written from seed document 002 alone (plus paypage issue 11 where the
// document is silent). It does not know paypage.
//
//	GET {base}/v1/checkouts/{id}?expand=
//	Authorization: Bearer <secret token>
//
// The document gives the shape only by example; Session mirrors it.
package seed002

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one Retrieve call.
const DefaultTimeout = 30 * time.Second

const maxBody = 8 << 20

// Client calls the checkout API.
type Client struct {
	BaseURL     string
	SecretToken string
	HTTPClient  *http.Client
}

// New returns a client for baseURL (e.g. "https://api.paypercut.io")
// authenticating with a Bearer secret token.
func New(baseURL, secretToken string) *Client {
	return &Client{
		BaseURL:     strings.TrimRight(baseURL, "/"),
		SecretToken: secretToken,
		HTTPClient:  &http.Client{Timeout: DefaultTimeout},
	}
}

// Option adjusts one Retrieve call.
type Option func(*options)

type options struct {
	expand    []string
	commaList bool
}

// Expand asks for the named fields expanded. The document types expand as
// "array string[]"; it is sent as an array query parameter, one expand=
// per field (expand=a&expand=b).
func Expand(fields ...string) Option {
	return func(o *options) { o.expand = append(o.expand, fields...); o.commaList = false }
}

// ExpandCommaList is Expand sent as one comma-separated value
// (expand=a,b), the other common encoding of an array parameter.
func ExpandCommaList(fields ...string) Option {
	return func(o *options) { o.expand = append(o.expand, fields...); o.commaList = true }
}

// Session is the checkout session as the document's example shows it.
// Properties the example shows as null are pointers.
type Session struct {
	ID                        string                     `json:"id"`
	Currency                  Currency                   `json:"currency"`
	Description               *string                    `json:"description"`
	Mode                      string                     `json:"mode"`
	UIMode                    string                     `json:"ui_mode"`
	AmountTotal               int64                      `json:"amount_total"`
	URL                       string                     `json:"url"`
	CancelURL                 *string                    `json:"cancel_url"`
	SuccessURL                *string                    `json:"success_url"`
	ReturnURL                 *string                    `json:"return_url"`
	PaymentMethodTypes        []string                   `json:"payment_method_types"`
	SubmitType                string                     `json:"submit_type"`
	WalletOptions             *WalletOptions             `json:"wallet_options"`
	ClientReferenceID         *string                    `json:"client_reference_id"`
	ClientCustomerID          *string                    `json:"client_customer_id"`
	ExpiresAt                 *int64                     `json:"expires_at"` // unix seconds
	LineItems                 []LineItem                 `json:"line_items"`
	SavedPaymentMethodOptions *SavedPaymentMethodOptions `json:"saved_payment_method_options"`
	Metadata                  map[string]string          `json:"metadata"`
	AfterCompletion           *AfterCompletion           `json:"after_completion"`
	Locale                    *string                    `json:"locale"`
	Customer                  *Expandable                `json:"customer"`
	CustomerEmail             *string                    `json:"customer_email"`
	CustomerCreation          string                     `json:"customer_creation"`
	PaymentIntent             *Expandable                `json:"payment_intent"`
	SetupIntent               *Expandable                `json:"setup_intent"`
	PaymentLink               *Expandable                `json:"payment_link"`
	PaymentStatus             string                     `json:"payment_status"`
	Status                    string                     `json:"status"`
	NextAction                *NextAction                `json:"next_action"`
	Livemode                  bool                       `json:"livemode"`
	BillingAddressCollection  string                     `json:"billing_address_collection"`
}

// Expires is expires_at as a time; false when null.
func (s *Session) Expires() (time.Time, bool) {
	if s.ExpiresAt == nil {
		return time.Time{}, false
	}
	return time.Unix(*s.ExpiresAt, 0).UTC(), true
}

// Currency is the session currency: ISO code and minor-unit scale.
type Currency struct {
	ISO   string `json:"iso"`
	Scale int    `json:"scale"`
}

// WalletOptions is wallet_options.
type WalletOptions struct {
	ApplePay  *WalletDisplay `json:"apple_pay"`
	GooglePay *WalletDisplay `json:"google_pay"`
}

// WalletDisplay is one wallet's display setting.
type WalletDisplay struct {
	Display string `json:"display"`
}

// SavedPaymentMethodOptions is saved_payment_method_options.
type SavedPaymentMethodOptions struct {
	PaymentMethodSave string `json:"payment_method_save"`
}

// LineItem is one entry of line_items.
type LineItem struct {
	Quantity  int64             `json:"quantity"`
	PriceData *PriceData        `json:"price_data"`
	Metadata  map[string]string `json:"metadata"`
}

// PriceData is a line item's price.
type PriceData struct {
	Active            bool         `json:"active"`
	BillingScheme     string       `json:"billing_scheme"`
	Created           int64        `json:"created"` // unix seconds
	Currency          string       `json:"currency"`
	Livemode          bool         `json:"livemode"`
	LookupKey         *string      `json:"lookup_key"`
	Product           string       `json:"product"`
	ProductData       *ProductData `json:"product_data"`
	Recurring         *Recurring   `json:"recurring"`
	Type              string       `json:"type"`
	UnitAmount        *int64       `json:"unit_amount"`
	UnitAmountDecimal *string      `json:"unit_amount_decimal"`
	ID                string       `json:"id"`
}

// ProductData is a price's product.
type ProductData struct {
	Active      bool    `json:"active"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	UnitLabel   *string `json:"unit_label"`
	ID          string  `json:"id"`
}

// Recurring is a price's recurrence.
type Recurring struct {
	Interval      string  `json:"interval"`
	IntervalCount int64   `json:"interval_count"`
	Meter         *string `json:"meter"`
	UsageType     string  `json:"usage_type"`
}

// AfterCompletion is after_completion.
type AfterCompletion struct {
	Type     string `json:"type"`
	Redirect *struct {
		URL string `json:"url"`
	} `json:"redirect"`
	Hosted *struct {
		CustomMessage *string `json:"custom_message"`
	} `json:"hosted"`
}

// NextAction is next_action.
type NextAction struct {
	Type          string `json:"type"`
	RedirectToURL *struct {
		ReturnURL *string `json:"return_url"`
		URL       *string `json:"url"`
	} `json:"redirect_to_url"`
	ThreeDSecure *ThreeDSecure `json:"three_d_secure"`
}

// ThreeDSecure is next_action.three_d_secure.
type ThreeDSecure struct {
	Flow      string  `json:"flow"`
	StatusURL string  `json:"status_url"`
	ReturnURL *string `json:"return_url"`
	Message   *struct {
		AllowedOrigins []string `json:"allowed_origins"`
	} `json:"message"`
	Hint *struct {
		Scheme  string `json:"scheme"`
		Version string `json:"version"`
	} `json:"hint"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// Expandable is a reference that is an id string, or the referenced object
// when expanded (then ID is the object's "id" and Object its JSON).
type Expandable struct {
	ID     string
	Object json.RawMessage
}

// UnmarshalJSON accepts an id string or an object with an "id".
func (e *Expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		e.ID, e.Object = o.ID, append(json.RawMessage(nil), b...)
		return nil
	}
	e.Object = nil
	return json.Unmarshal(b, &e.ID)
}

// Error is a non-2xx answer. The document lists error responses as
// "application/json" without a schema, so the raw body is kept and Message
// is filled, best effort, from {"error":{"message":…}} or a top-level
// "message"/"error" string.
type Error struct {
	Status  int
	Message string
	Body    []byte
}

func (e Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("seed002: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("seed002: HTTP %d", e.Status)
}

// Retrieve fetches one checkout session and returns it with the raw body.
// Without options it sends "?expand=" exactly as the document's curl does.
func (c *Client) Retrieve(ctx context.Context, id string, opts ...Option) (*Session, []byte, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var q string
	switch {
	case len(o.expand) == 0:
		q = "expand="
	case o.commaList:
		parts := make([]string, len(o.expand))
		for i, f := range o.expand {
			parts[i] = url.QueryEscape(f)
		}
		q = "expand=" + strings.Join(parts, ",")
	default:
		parts := make([]string, len(o.expand))
		for i, f := range o.expand {
			parts[i] = "expand=" + url.QueryEscape(f)
		}
		q = strings.Join(parts, "&")
	}
	u := c.BaseURL + "/v1/checkouts/" + url.PathEscape(id) + "?" + q
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seed002: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.SecretToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("seed002: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, raw, fmt.Errorf("seed002: reading body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, raw, Error{Status: resp.StatusCode, Message: errorMessage(raw), Body: raw}
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, raw, fmt.Errorf("seed002: decoding session: %w", err)
	}
	return &s, raw, nil
}

func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	if e, ok := body["error"].(map[string]any); ok {
		if s, ok := e["message"].(string); ok {
			return s
		}
	}
	for _, k := range []string{"message", "error"} {
		if s, ok := body[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
