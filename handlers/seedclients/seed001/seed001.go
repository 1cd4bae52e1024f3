// Package seed001 is a client for the BLIK provider's "Retrieve a Checkout
// Session" API, written from seed document 001 alone (plus paypage issue 11
// where the document is silent). It does not know paypage.
//
//	GET {base}/v1/checkout/sessions/:id
//	Authorization: Basic base64(<secret key>:)   (curl -u sk_...: )
//
// The document's table and its example disagree on two names
// (amount_subtotal / amount_sub_total, expires_at / expire_at); Session
// reads both and AmountSubtotalValue / ExpiresAtValue pick whichever is set.
package seed001

import (
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

// Client calls the checkout-session API.
type Client struct {
	BaseURL    string
	SecretKey  string // HTTP Basic user name; the password is empty
	HTTPClient *http.Client
}

// New returns a client for baseURL (the document's "https://{provided url}")
// authenticating with the secret key as in the document's curl example.
func New(baseURL, secretKey string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		SecretKey:  secretKey,
		HTTPClient: &http.Client{Timeout: DefaultTimeout},
	}
}

// Session is the checkout session. Timestamps are unix seconds, as the
// table types them ("int").
type Session struct {
	ID                 string         `json:"id"`
	AmountTotal        int64          `json:"amount_total"`
	AmountSubtotal     *int64         `json:"amount_subtotal"`  // the table's name
	AmountSubTotal     *int64         `json:"amount_sub_total"` // the example's name
	Currency           string         `json:"currency"`
	SuccessURL         string         `json:"success_url"`
	CancelURL          string         `json:"cancel_url"`
	CustomerFirstname  string         `json:"customer_firstname"`
	CustomerLastname   string         `json:"customer_lastname"`
	CustomerEmail      string         `json:"customer_email"`
	CustomerIP         string         `json:"customer_ip"`
	ExpiresAt          *int64         `json:"expires_at"` // the table's name
	ExpireAt           *int64         `json:"expire_at"`  // the example's name (null there)
	Locale             string         `json:"locale"`     // "" = the browser's locale
	PaymentMethodTypes []string       `json:"payment_method_types"`
	Metadata           map[string]any `json:"metadata"` // null when empty
	CreatedAt          int64          `json:"created_at"`
	Status             string         `json:"status"`
	Fees               []any          `json:"fees"` // null when empty
	Livemode           bool           `json:"livemode"`
	URL                string         `json:"url"` // in the example only
}

// AmountSubtotalValue is amount_subtotal, or amount_sub_total if only that
// one was sent.
func (s *Session) AmountSubtotalValue() (int64, bool) {
	switch {
	case s.AmountSubtotal != nil:
		return *s.AmountSubtotal, true
	case s.AmountSubTotal != nil:
		return *s.AmountSubTotal, true
	}
	return 0, false
}

// ExpiresAtValue is expires_at (or expire_at) as a time; false when null or
// absent.
func (s *Session) ExpiresAtValue() (time.Time, bool) {
	switch {
	case s.ExpiresAt != nil:
		return time.Unix(*s.ExpiresAt, 0).UTC(), true
	case s.ExpireAt != nil:
		return time.Unix(*s.ExpireAt, 0).UTC(), true
	}
	return time.Time{}, false
}

// Created is created_at as a time.
func (s *Session) Created() time.Time { return time.Unix(s.CreatedAt, 0).UTC() }

// Error is a non-2xx answer. The document describes no error body; since the
// API follows Stripe's path and auth, Message is read, best effort, from a
// Stripe-style {"error":{"message":…}} or a top-level "message"/"error"
// string, and the raw body is kept.
type Error struct {
	Status  int
	Message string
	Body    []byte
}

func (e Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("seed001: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("seed001: HTTP %d", e.Status)
}

// Retrieve fetches one checkout session and returns it with the raw body.
func (c *Client) Retrieve(ctx context.Context, id string) (*Session, []byte, error) {
	u := c.BaseURL + "/v1/checkout/sessions/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seed001: %w", err)
	}
	req.SetBasicAuth(c.SecretKey, "")
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("seed001: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, raw, fmt.Errorf("seed001: reading body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, raw, Error{Status: resp.StatusCode, Message: errorMessage(raw), Body: raw}
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, raw, fmt.Errorf("seed001: decoding session: %w", err)
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
