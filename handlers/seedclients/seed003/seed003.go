// Package seed003 is a client for the merchant checkout's "Get Checkout
// Session Details" API, written from seed document 003 alone (plus paypage
// issue 11 where the document is silent). It does not know paypage.
//
//	GET {base}/v1/checkout-sessions/{checkoutSessionId}[?init=true]
//	X-Merchant-Id: <merchant id>
//	Authorization: Bearer <secret key>
//
// The document's sample request shows only X-Merchant-Id; issue 11 requires
// the secret key as well (never the merchant id alone), sent as a Bearer
// token.
package seed003

import (
	"context"
	"encoding/json"
	"errors"
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
	MerchantID string // sent as X-Merchant-Id
	SecretKey  string // sent as Authorization: Bearer
	HTTPClient *http.Client
}

// New returns a client for baseURL authenticating as merchantID with
// secretKey.
func New(baseURL, merchantID, secretKey string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		MerchantID: merchantID,
		SecretKey:  secretKey,
		HTTPClient: &http.Client{Timeout: DefaultTimeout},
	}
}

// Option adjusts one Retrieve call.
type Option func(*options)

type options struct{ init bool }

// Init(true) adds init=true, asking for appearance and cardCategories,
// which are omitted by default. Init(false) is the default (no parameter).
func Init(init bool) Option { return func(o *options) { o.init = init } }

// Response is the success envelope {"data": {...}}.
type Response struct {
	Data Data `json:"data"`
}

// Data holds the session and its hcpToken.
type Data struct {
	CheckoutSession Session `json:"checkoutSession"`
	HcpToken        string  `json:"hcpToken"`
}

// Session is data.checkoutSession. The document gives no inner shape for
// paymentMethod, childSession, appearance or cardCategories; they are kept
// as raw JSON (absent = nil).
type Session struct {
	ID                    string          `json:"id"`
	CheckoutSessionStatus string          `json:"checkoutSessionStatus"`
	CreatedAt             time.Time       `json:"createdAt"`
	ExpiresAt             time.Time       `json:"expiresAt"`
	PaymentMethod         json.RawMessage `json:"paymentMethod,omitempty"`
	ChildSession          json.RawMessage `json:"childSession,omitempty"`
	Appearance            json.RawMessage `json:"appearance,omitempty"`     // only with init=true
	CardCategories        json.RawMessage `json:"cardCategories,omitempty"` // only with init=true
	// Expired is the document's isExpired() flag (an expired session is
	// INITIATED with isExpired() = true). The document names no JSON
	// property; "expired" is how a Java bean getter isExpired() serialises.
	Expired *bool `json:"expired,omitempty"`
}

// ChildSessionID is childSession.id, or "" when there is no child session.
func (s *Session) ChildSessionID() string {
	var c struct {
		ID string `json:"id"`
	}
	if len(s.ChildSession) == 0 || json.Unmarshal(s.ChildSession, &c) != nil {
		return ""
	}
	return c.ID
}

// The document's error answers, by status. Match with errors.Is.
var (
	ErrValidation = errors.New("seed003: validation error (400)")
	ErrExpired    = errors.New("seed003: session expired (401)")
	ErrForbidden  = errors.New("seed003: merchant not authorised (403)")
	ErrNotFound   = errors.New("seed003: session not found (404)")
	ErrCanceled   = errors.New("seed003: session canceled (410)")
)

var byStatus = map[int]error{
	http.StatusBadRequest:   ErrValidation,
	http.StatusUnauthorized: ErrExpired,
	http.StatusForbidden:    ErrForbidden,
	http.StatusNotFound:     ErrNotFound,
	http.StatusGone:         ErrCanceled,
}

// Error is a non-2xx answer. The document gives the meaning of each status
// but no body shape, so the raw body is kept and Message is filled, best
// effort, from a JSON "message", "error", "error.message",
// "errors[0].message" or "detail" string.
type Error struct {
	Status  int
	Message string
	Body    []byte
}

func (e Error) Error() string {
	what := http.StatusText(e.Status)
	if sentinel, ok := byStatus[e.Status]; ok {
		what = strings.TrimPrefix(sentinel.Error(), "seed003: ")
	}
	if e.Message != "" {
		return fmt.Sprintf("seed003: HTTP %d %s: %s", e.Status, what, e.Message)
	}
	return fmt.Sprintf("seed003: HTTP %d %s", e.Status, what)
}

// Is makes errors.Is(err, ErrExpired) (etc.) match by status.
func (e Error) Is(target error) bool {
	sentinel, ok := byStatus[e.Status]
	return ok && sentinel == target
}

// Retrieve fetches one checkout session and returns the envelope with the
// raw body.
func (c *Client) Retrieve(ctx context.Context, id string, opts ...Option) (*Response, []byte, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	u := c.BaseURL + "/v1/checkout-sessions/" + url.PathEscape(id)
	if o.init {
		u += "?init=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seed003: %w", err)
	}
	req.Header.Set("X-Merchant-Id", c.MerchantID)
	req.Header.Set("Authorization", "Bearer "+c.SecretKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("seed003: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, raw, fmt.Errorf("seed003: reading body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, raw, Error{Status: resp.StatusCode, Message: errorMessage(raw), Body: raw}
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, raw, fmt.Errorf("seed003: decoding session: %w", err)
	}
	return &r, raw, nil
}

func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	str := func(v any) string { s, _ := v.(string); return s }
	if s := str(body["message"]); s != "" {
		return s
	}
	switch e := body["error"].(type) {
	case string:
		return e
	case map[string]any:
		if s := str(e["message"]); s != "" {
			return s
		}
	}
	if errs, ok := body["errors"].([]any); ok && len(errs) > 0 {
		if e, ok := errs[0].(map[string]any); ok {
			if s := str(e["message"]); s != "" {
				return s
			}
		}
	}
	return str(body["detail"])
}
