// Package seed000 is a client for the billing platform's "Get checkout session
// by ID" API, written from seed document 000 alone (plus the naming decisions
// of paypage issue 11 where the document is silent). It does not know
// paypage: point it at any server that speaks this dialect.
//
//	GET {base}/checkout/{checkout_session_id}
//	x-api-key: <secret key>
//	organisation: <merchant id>
package seed000

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

// maxBody caps how much of an answer is read.
const maxBody = 8 << 20

// Client calls the checkout-session API.
type Client struct {
	BaseURL      string
	APIKey       string // sent as x-api-key
	Organisation string // sent as organisation
	HTTPClient   *http.Client
}

// New returns a client for baseURL (scheme and host, optionally a path
// prefix) authenticating with an API key and an organisation (merchant) id.
func New(baseURL, apiKey, organisation string) *Client {
	return &Client{
		BaseURL:      strings.TrimRight(baseURL, "/"),
		APIKey:       apiKey,
		Organisation: organisation,
		HTTPClient:   &http.Client{Timeout: DefaultTimeout},
	}
}

// Session is the checkout session response. Nullable properties are
// pointers (or raw JSON, where the document gives no inner shape).
type Session struct {
	ID                    string          `json:"id"`
	CheckoutSessionStatus string          `json:"checkout_session_status"`
	PaymentStatus         string          `json:"payment_status"`
	Contract              json.RawMessage `json:"contract"` // plan-based or product-based contract data
	GuestCheckout         bool            `json:"guest_checkout"`
	ContractID            *string         `json:"contract_id"`
	ExecutionID           *string         `json:"execution_id"`
	ConfirmedAt           *Time           `json:"confirmed_at"`
	PaidAt                *Time           `json:"paid_at"`
	PaymentIntentID       *string         `json:"payment_intent_id"`
	Estimates             *Estimates      `json:"estimates"`
	CustomerID            *string         `json:"customer_id"`
	BusinessEntityID      *string         `json:"business_entity_id"`
	CustomerData          json.RawMessage `json:"customer_data"` // snapshot at checkout time
	ExpiresAt             Time            `json:"expires_at"`
	LastActivityAt        *Time           `json:"last_activity_at"`
	CompletedAt           *Time           `json:"completed_at"`
	CreatedAt             Time            `json:"created_at"`
	UpdatedAt             Time            `json:"updated_at"`
	IdempotencyKey        *string         `json:"idempotency_key"`
	CorrelationID         *string         `json:"correlation_id"`
	Currency              string          `json:"currency"`
	DisplayCurrency       *string         `json:"display_currency"`
	SuccessURL            *string         `json:"success_url"`
	CancelURL             *string         `json:"cancel_url"`
	PendingURL            *string         `json:"pending_url"`
	// Attribution is the document's "UTM and attribution data for marketing
	// tracking", which it names no property for: paypage named it
	// attribution (its README, seed 000).
	Attribution map[string]any `json:"attribution"`
	Metadata    map[string]any `json:"metadata"`
}

// Estimates is the EstimationResponseSchema the document names.
type Estimates struct {
	EstimationID   *string           `json:"estimation_id"`
	CurrentInvoice json.RawMessage   `json:"current_invoice"`
	FutureInvoices []json.RawMessage `json:"future_invoices"`
	AmountDue      *json.Number      `json:"amount_due"`
	CreditNotes    []json.RawMessage `json:"credit_notes"`
}

// Time is an ISO 8601 timestamp as the document's "Timestamp" properties
// carry it. A value without a zone designator is read as UTC.
type Time struct{ time.Time }

// UnmarshalJSON accepts an ISO 8601 extended date-time string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("seed000: timestamp: %w", err)
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// ParseTime parses an ISO 8601 extended date-time with optional fraction and
// optional zone designator (Z, ±hh:mm, ±hhmm or ±hh); no zone means UTC.
func ParseTime(s string) (time.Time, error) {
	m := isoRe.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("seed000: %q is not an ISO 8601 date-time", s)
	}
	norm := m[1] + m[2]
	switch zone := m[3]; {
	case zone == "" || zone == "Z":
		norm += "Z"
	case len(zone) == 3: // ±hh
		norm += zone + ":00"
	case len(zone) == 5: // ±hhmm
		norm += zone[:3] + ":" + zone[3:]
	default:
		norm += zone
	}
	p, err := time.Parse(time.RFC3339Nano, norm)
	if err != nil {
		return time.Time{}, fmt.Errorf("seed000: %q is not a valid ISO 8601 date-time: %w", s, err)
	}
	return p, nil
}

// Error is a non-2xx answer. The document describes no error body, so the
// raw body is kept and Message is filled, best effort, from a JSON "detail",
// "message" or "error" string.
type Error struct {
	Status  int
	Message string
	Body    []byte
}

func (e Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("seed000: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("seed000: HTTP %d", e.Status)
}

// Retrieve fetches one checkout session. It returns the decoded session and
// the raw body (also on error, when a body was read).
func (c *Client) Retrieve(ctx context.Context, id string) (*Session, []byte, error) {
	u := c.BaseURL + "/checkout/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seed000: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-api-key", c.APIKey)
	req.Header.Set("organisation", c.Organisation)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("seed000: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, raw, fmt.Errorf("seed000: reading body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, raw, Error{Status: resp.StatusCode, Message: errorMessage(raw), Body: raw}
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, raw, fmt.Errorf("seed000: decoding session: %w", err)
	}
	return &s, raw, nil
}

func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	for _, k := range []string{"detail", "message", "error"} {
		if s, ok := body[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
