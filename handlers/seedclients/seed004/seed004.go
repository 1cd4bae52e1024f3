// Package seed004 is a client for the generic gateway's "Get checkout
// session" API, written from seed document 004 alone (plus paypage issue 11
// where the document is silent). It does not know paypage.
//
//	GET {base}/api/v1/sessions/{sessionId}
//	Authorization: Bearer <API token>
//	Content-Type: application/json   (every example in the document sends it)
package seed004

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

// Client calls the sessions API.
type Client struct {
	BaseURL    string
	Token      string // Bearer token; the "Bearer" prefix is added
	HTTPClient *http.Client
}

// New returns a client for baseURL (e.g. "https://api.example.com")
// authenticating with a Bearer token.
func New(baseURL, token string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		Token:      token,
		HTTPClient: &http.Client{Timeout: DefaultTimeout},
	}
}

// Session is the checkout session. Times are ISO 8601 (UTC, milliseconds).
type Session struct {
	ID             string     `json:"id"`
	OrderReference string     `json:"orderReference"`
	Status         string     `json:"status"`
	FailureReason  *string    `json:"failureReason"`
	ProviderName   *string    `json:"providerName"`
	PaymentMethod  string     `json:"paymentMethod"`
	ExpiresAt      *time.Time `json:"expiresAt"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	// Refunds is nil when the document's "Null otherwise" applies (the
	// session is not SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED or REVERSED).
	Refunds []Refund `json:"refunds"`
}

// Refund is one entry of refunds.
type Refund struct {
	ID string `json:"id"`
	// Amount is in major units as a decimal (45.01), kept as its exact
	// JSON text.
	Amount        json.Number `json:"amount"`
	Currency      string      `json:"currency"`
	Status        string      `json:"status"`
	FailureReason *string     `json:"failureReason"`
	Reason        *string     `json:"reason"`
	CreatedAt     time.Time   `json:"createdAt"`
	UpdatedAt     time.Time   `json:"updatedAt"`
}

// Error is a non-2xx answer, decoded from the document's error body
// {"error", "message", "code", "requestId"}. If the body is not that JSON
// (an HTML 404, say) the decoded fields stay empty; Body always has it.
type Error struct {
	Status    int    // HTTP status
	ErrorName string // "error": "Unauthorized", "Not Found", "Error", …
	Message   string // "message"
	Code      int    // "code" (the document repeats the HTTP status)
	RequestID string // "requestId" (the document shows it on 500)
	Body      []byte
}

func (e Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("seed004: HTTP %d %s: %s", e.Status, e.ErrorName, e.Message)
	}
	return fmt.Sprintf("seed004: HTTP %d", e.Status)
}

// Retrieve fetches one checkout session and returns it with the raw body.
func (c *Client) Retrieve(ctx context.Context, id string) (*Session, []byte, error) {
	u := c.BaseURL + "/api/v1/sessions/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seed004: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("seed004: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, raw, fmt.Errorf("seed004: reading body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := Error{Status: resp.StatusCode, Body: raw}
		var body struct {
			Error     string `json:"error"`
			Message   string `json:"message"`
			Code      int    `json:"code"`
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(raw, &body) == nil {
			e.ErrorName, e.Message, e.Code, e.RequestID = body.Error, body.Message, body.Code, body.RequestID
		}
		return nil, raw, e
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, raw, fmt.Errorf("seed004: decoding session: %w", err)
	}
	return &s, raw, nil
}
