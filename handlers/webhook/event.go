// Package webhook sends paypage's events to merchants' webhook endpoints:
// Stripe's event shape, signed exactly as Stripe signs (so that Stripe's
// libraries verify them unchanged), from the store's outbox, by a worker any
// instance may run, to public https addresses only.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/paypage/paypage/store"
)

// Presenter renders an event's snapshot of its session as data.object, in
// the given API version ("" is the merchant's default). The API's
// GET /v1/events and the deliveries share one, so that an event reads the
// same wherever it is seen.
type Presenter func(apiVersion string, s *store.Session) (any, error)

// EventObject is an event as Stripe shapes one.
type EventObject struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      *string      `json:"api_version"`
	Created         int64        `json:"created"`
	Data            EventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int64        `json:"pending_webhooks"`
	Request         EventRequest `json:"request"`
	Type            string       `json:"type"`
}

// EventData holds the object the event is about.
type EventData struct {
	Object any `json:"object"`
}

// EventRequest names the API request that caused the event; both are null
// for changes no request made (expiry, the test-mode panel).
type EventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// Object renders ev for a reader of apiVersion, data.object by present.
func Object(ev *store.WebhookEvent, apiVersion string, present Presenter) (*EventObject, error) {
	s, err := ev.Session()
	if err != nil {
		return nil, err
	}
	obj, err := present(apiVersion, s)
	if err != nil {
		return nil, err
	}
	return &EventObject{
		ID: ev.ID, Object: "event", APIVersion: nullable(apiVersion), Created: ev.Created,
		Data: EventData{Object: obj}, Livemode: ev.Livemode, PendingWebhooks: ev.PendingWebhooks,
		Request: EventRequest{ID: nullable(ev.RequestID), IdempotencyKey: nullable(ev.IdempotencyKey)},
		Type:    ev.Type,
	}, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Headers of a delivery.
const (
	// HeaderSignature is Stripe's: t=<unix seconds>,v1=<hex>[,v1=<hex>].
	HeaderSignature = "Stripe-Signature"
	// HeaderSessionVersion carries the session's version after the change,
	// so that a receiver can put deliveries back in order (they may arrive
	// out of it, as Stripe's do).
	HeaderSessionVersion = "Paypage-Session-Version"
	HeaderEventID        = "Paypage-Event-Id"
)

// SignatureHeader signs body as Stripe does: for each secret, the lower-case
// hex HMAC-SHA256, keyed with the whole secret string (whsec_… included), of
// "<t>.<body>". Several secrets give several v1 values (a rotation's
// overlap); a receiver accepts the delivery when one of them matches.
func SignatureHeader(t time.Time, body []byte, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts))
		mac.Write([]byte("."))
		mac.Write(body)
		b.WriteString(",v1=" + hex.EncodeToString(mac.Sum(nil)))
	}
	return b.String()
}
