package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The event types paypage sends to merchants. Stripe's names where Stripe
// sends an event for the change; paypage's own, named the same way, where
// Stripe has none. Each change of a session makes one event.
const (
	// The shopper finished the checkout: paid (status complete), or a
	// payment submitted that the provider has yet to settle (status
	// processing, payment_status pending: Stripe's complete and unpaid).
	EventSessionCompleted = "checkout.session.completed"
	// A payment left pending at completion settled, or did not: declined
	// (the session is open again, payment_status failed) or voided by the
	// provider (status canceled).
	EventSessionAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
	EventSessionAsyncPaymentFailed    = "checkout.session.async_payment_failed"
	EventSessionExpired               = "checkout.session.expired"
	// paypage's own.
	EventSessionPaymentFailed = "checkout.session.payment_failed" // declined; open, the shopper may retry
	EventSessionCanceled      = "checkout.session.canceled"       // abandoned before any payment was submitted
	EventSessionRefunded      = "checkout.session.refunded"       // money given back: partially_refunded or refunded
	EventSessionRefundUpdated = "checkout.session.refund_updated" // a refund recorded or settled that moved no money (pending, failed, canceled)
	EventSessionReversed      = "checkout.session.reversed"       // the payment was taken back (a chargeback)
	// An expired session was paid for through its recovery session: its
	// settled_by names the paying child (which sends its own completed).
	EventSessionSettled = "checkout.session.settled"
)

// WebhookEventTypes lists every event type, for enabled_events.
var WebhookEventTypes = []string{
	EventSessionCompleted, EventSessionAsyncPaymentSucceeded, EventSessionAsyncPaymentFailed,
	EventSessionExpired, EventSessionPaymentFailed, EventSessionCanceled, EventSessionRefunded,
	EventSessionRefundUpdated, EventSessionReversed, EventSessionSettled,
}

// eventTypes decides which events a change makes, from the transition and
// the session before and after it; nothing else. A new kind of change is
// one more case here, and one more row in its table test.
func eventTypes(t Transition, before, after *Session) []string {
	async := before.Status == StatusProcessing
	switch t.Action {
	case ActionProcess:
		return []string{EventSessionCompleted}
	case ActionSucceed:
		if async {
			return []string{EventSessionAsyncPaymentSucceeded}
		}
		return []string{EventSessionCompleted}
	case ActionFail:
		if async {
			return []string{EventSessionAsyncPaymentFailed}
		}
		return []string{EventSessionPaymentFailed}
	case ActionExpire:
		return []string{EventSessionExpired}
	case ActionCancel:
		if async {
			return []string{EventSessionAsyncPaymentFailed}
		}
		return []string{EventSessionCanceled}
	case ActionRefund, ActionRefundUpdate:
		if after.AmountRefunded > before.AmountRefunded {
			return []string{EventSessionRefunded}
		}
		return []string{EventSessionRefundUpdated}
	case ActionReverse:
		return []string{EventSessionReversed}
	case ActionSettleByChild:
		return []string{EventSessionSettled}
	}
	return nil
}

// RequestInfo names the API request that made a change: its id and its
// Idempotency-Key. Changes made by no request (the sweeper, the test-mode
// panel) have none.
type RequestInfo struct {
	ID             string
	IdempotencyKey string
}

// WebhookEventRetention is how long events are kept, as Stripe keeps them.
const WebhookEventRetention = 30 * 24 * time.Hour

// WebhookEvent is one event of a session: what happened, and the session as
// it was right after.
type WebhookEvent struct {
	Seq            int64   `db:"seq"`
	ID             string  `db:"id"`
	MerchantID     string  `db:"merchant_id"`
	Livemode       bool    `db:"livemode"`
	Type           string  `db:"type"`
	SessionID      string  `db:"session_id"`
	SessionVersion int64   `db:"session_version"`
	Snapshot       RawJSON `db:"snapshot"` // the Session, as JSON
	RequestID      string  `db:"request_id"`
	IdempotencyKey string  `db:"idempotency_key"`
	Created        int64   `db:"created"`
	// PendingWebhooks counts its deliveries not (yet) successful.
	PendingWebhooks int64 `db:"pending_webhooks"`
}

// Session decodes the event's snapshot of its session.
func (e *WebhookEvent) Session() (*Session, error) {
	var s Session
	if err := json.Unmarshal(e.Snapshot, &s); err != nil {
		return nil, fmt.Errorf("store: snapshot of event %s: %w", e.ID, err)
	}
	return &s, nil
}

const webhookEventColumns = `e.seq, e.id, e.merchant_id, e.livemode, e.type, e.session_id,
	e.session_version, e.snapshot, e.request_id, e.idempotency_key, e.created,
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status <> 'succeeded') AS pending_webhooks`

// insertOutboxEvents writes, inside the transition's transaction, the
// events the change makes and a delivery of each to every enabled endpoint
// of the merchant (and mode) that wants it. Committed with the change or not
// at all: the delivery worker finds them after the commit.
func insertOutboxEvents(ctx context.Context, tx *sqlx.Tx, before, after *Session, t Transition, now int64) error {
	types := eventTypes(t, before, after)
	if len(types) == 0 {
		return nil
	}
	snapshot, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var endpoints []*WebhookEndpoint
	if err := tx.SelectContext(ctx, &endpoints, tx.Rebind(`SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE merchant_id = ? AND livemode = ? AND status = 'enabled'`), after.MerchantID, after.Livemode); err != nil {
		return err
	}
	for _, typ := range types {
		ev := WebhookEvent{ID: newID("evt_"), MerchantID: after.MerchantID, Livemode: after.Livemode, Type: typ,
			SessionID: after.ID, SessionVersion: after.Version, Snapshot: snapshot,
			RequestID: t.Request.ID, IdempotencyKey: t.Request.IdempotencyKey, Created: now}
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO webhook_events (id, merchant_id, livemode, type,
			session_id, session_version, snapshot, request_id, idempotency_key, created) VALUES (:id,
			:merchant_id, :livemode, :type, :session_id, :session_version, :snapshot, :request_id,
			:idempotency_key, :created)`, ev); err != nil {
			return err
		}
		for _, e := range endpoints {
			if !e.Wants(typ) {
				continue
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO webhook_deliveries (event_id, endpoint_id,
				next_attempt_at) VALUES (?, ?, ?)`), ev.ID, e.ID, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// WebhookEvent returns an event of the merchant in that mode; another's,
// or the other mode's, is ENOTFOUND like an unknown id.
func (s *Store) WebhookEvent(ctx context.Context, merchantID string, livemode bool, id string) (*WebhookEvent, error) {
	var ev WebhookEvent
	err := s.db.GetContext(ctx, &ev, s.db.Rebind(`SELECT `+webhookEventColumns+` FROM webhook_events e
		WHERE e.id = ? AND e.merchant_id = ? AND e.livemode = ?`), id, merchantID, livemode)
	if err != nil {
		return nil, fmt.Errorf("store: get event %s: %w", id, mapErr(err))
	}
	return &ev, nil
}

// EventFilter narrows a list of events.
type EventFilter struct {
	Types      []string // any of these; a type ending in ".*" matches its prefix
	CreatedGTE int64    // 0: unbounded
	CreatedLTE int64    // 0: unbounded
}

// ListWebhookEvents returns a page of the merchant's events in a mode,
// newest first.
func (s *Store) ListWebhookEvents(ctx context.Context, merchantID string, livemode bool, p Page, f EventFilter) ([]*WebhookEvent, bool, error) {
	where, args, order, err := p.cursor(ctx, s.db, "e.seq", `SELECT seq FROM webhook_events
		WHERE id = ? AND merchant_id = ? AND livemode = ?`, merchantID, livemode)
	if err != nil {
		return nil, false, fmt.Errorf("store: list events: %w", err)
	}
	where, args = append(where, "e.merchant_id = ?", "e.livemode = ?"), append(args, merchantID, livemode)
	if len(f.Types) > 0 {
		var alts []string
		for _, typ := range f.Types {
			if prefix, ok := strings.CutSuffix(typ, "*"); ok {
				alts = append(alts, `e.type LIKE ? ESCAPE '\'`)
				args = append(args, strings.NewReplacer("%", `\%`, "_", `\_`).Replace(prefix)+"%")
				continue
			}
			alts = append(alts, "e.type = ?")
			args = append(args, typ)
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	if f.CreatedGTE != 0 {
		where, args = append(where, "e.created >= ?"), append(args, f.CreatedGTE)
	}
	if f.CreatedLTE != 0 {
		where, args = append(where, "e.created <= ?"), append(args, f.CreatedLTE)
	}
	var out []*WebhookEvent
	err = s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+webhookEventColumns+` FROM webhook_events e
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.seq `+order+` LIMIT ?`), append(args, p.Limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list events: %w", mapErr(err))
	}
	out, more := page(out, p.Limit, order)
	return out, more, nil
}

// RetryWebhookEvent sends an event again, now: to one endpoint (it must
// have been sent there before), or, when endpointID is "", to every endpoint
// it was sent to. A delivery that had ended, delivered or given up, gets one
// more attempt. It returns how many deliveries it scheduled.
func (s *Store) RetryWebhookEvent(ctx context.Context, merchantID string, livemode bool, eventID, endpointID string) (int, error) {
	ev, err := s.WebhookEvent(ctx, merchantID, livemode, eventID)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		q := `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE event_id = ?`
		args := []any{s.now().Unix(), ev.ID}
		if endpointID != "" {
			q += ` AND endpoint_id = ?`
			args = append(args, endpointID)
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 && endpointID != "" {
			return Invalid("webhook_endpoint", "event %s was never sent to webhook endpoint %q", ev.ID, endpointID)
		}
		return s.notifyInTx(ctx, tx, ev.SessionID)
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry event %s: %w", eventID, err)
	}
	s.changed(ev.SessionID)
	return int(n), nil
}

// notifyInTx wakes, at commit, every instance that LISTENs on PostgreSQL:
// live streams of the session re-read it, delivery workers look for work.
func (s *Store) notifyInTx(ctx context.Context, tx *sqlx.Tx, sessionID string) error {
	if s.engine != Postgres {
		return nil
	}
	// The payload is only the id; listeners re-read the store.
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, sessionID)
	return err
}

// changed tells this process, after a commit, that a session changed.
func (s *Store) changed(sessionID string) {
	if s.OnChange != nil {
		s.OnChange(sessionID)
	}
}

// PruneWebhookEvents deletes events older than WebhookEventRetention with
// their deliveries and attempts, a batch at a time; it returns how many.
func (s *Store) PruneWebhookEvents(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM webhook_events WHERE seq IN
		(SELECT seq FROM webhook_events WHERE created < ? ORDER BY seq LIMIT 1000)`),
		s.now().Add(-WebhookEventRetention).Unix())
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return n, nil
}
