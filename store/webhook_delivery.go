package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // every attempt for RetryWindow failed: given up
)

// The retry schedule: a failed attempt is tried again after RetryBase,
// doubling each time up to RetryMaxDelay, each delay drawn between its half
// and its whole (jitter, so that an endpoint coming back is not hit by every
// retry at once), for RetryWindow after the event was made.
const (
	RetryBase     = time.Minute
	RetryMaxDelay = 12 * time.Hour
	RetryWindow   = 3 * 24 * time.Hour
)

// DeliveryLease is how long a claimed delivery is its instance's alone:
// well beyond the longest attempt (a 10 s timeout), so that no two
// instances send an event to an endpoint at once, and short, so that the
// deliveries of an instance that died are taken over soon.
const DeliveryLease = time.Minute

// nextAttempt is the retry schedule as a pure function: after failed
// attempt number attempt (from 1) at now, of an event made at created,
// when the next attempt is due, or giveUp when RetryWindow has passed.
// jitter, in [0, 1), places the delay between its half and its whole.
func nextAttempt(attempt int, created, now int64, jitter float64) (at int64, giveUp bool) {
	deadline := created + int64(RetryWindow/time.Second)
	if now >= deadline {
		return 0, true
	}
	d := RetryMaxDelay
	if attempt < 20 { // beyond, the shift would only overflow past the cap
		d = min(RetryBase<<(attempt-1), RetryMaxDelay)
	}
	d = d/2 + time.Duration(jitter*float64(d/2))
	return min(now+int64(d/time.Second), deadline), false
}

// Delivery is an event on its way to one endpoint, as a worker claimed it.
type Delivery struct {
	Event    *WebhookEvent
	Endpoint *WebhookEndpoint
	Attempt  int // the number of the attempt claimed, from 1
}

// ClaimDeliveries takes up to limit deliveries that are due, to enabled
// endpoints, for this instance to attempt now: each is leased to it for
// DeliveryLease, during which no other instance claims it. On PostgreSQL
// concurrent claimers skip each other's rows (FOR UPDATE SKIP LOCKED)
// rather than wait; on SQLite the one writer at a time does the same.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int) ([]*Delivery, error) {
	now := s.now().Unix()
	const dueSQL = `FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.leased_until <= ? AND w.status = 'enabled'`
	// Workers look after every change, mostly to find nothing: a read
	// says so without a write transaction (on SQLite, the write lock).
	var some []int
	if err := s.db.SelectContext(ctx, &some, s.db.Rebind(`SELECT 1 `+dueSQL+` LIMIT 1`), now, now); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", mapErr(err))
	}
	if len(some) == 0 {
		return nil, nil
	}
	var out []*Delivery
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		var due []struct {
			EventID    string `db:"event_id"`
			EndpointID string `db:"endpoint_id"`
			Attempts   int    `db:"attempts"`
		}
		if err := tx.SelectContext(ctx, &due, tx.Rebind(`SELECT d.event_id, d.endpoint_id, d.attempts `+dueSQL+`
			ORDER BY d.next_attempt_at LIMIT ?`+lock), now, now, limit); err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		var eventIDs, endpointIDs []string
		for _, d := range due {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE webhook_deliveries SET attempts = attempts + 1,
				leased_until = ? WHERE event_id = ? AND endpoint_id = ?`),
				now+int64(DeliveryLease/time.Second), d.EventID, d.EndpointID); err != nil {
				return err
			}
			eventIDs, endpointIDs = append(eventIDs, d.EventID), append(endpointIDs, d.EndpointID)
		}
		events := map[string]*WebhookEvent{}
		var evs []*WebhookEvent
		if err := selectIn(ctx, tx, &evs, `SELECT `+webhookEventColumns+` FROM webhook_events e WHERE e.id IN (?)`, eventIDs); err != nil {
			return err
		}
		for _, ev := range evs {
			events[ev.ID] = ev
		}
		endpoints := map[string]*WebhookEndpoint{}
		var eps []*WebhookEndpoint
		if err := selectIn(ctx, tx, &eps, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE id IN (?)`, endpointIDs); err != nil {
			return err
		}
		for _, e := range eps {
			endpoints[e.ID] = e
		}
		for _, d := range due {
			out = append(out, &Delivery{Event: events[d.EventID], Endpoint: endpoints[d.EndpointID], Attempt: d.Attempts + 1})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

func selectIn(ctx context.Context, h Handler, dest any, query string, ids []string) error {
	q, args, err := sqlx.In(query, ids)
	if err != nil {
		return err
	}
	return h.SelectContext(ctx, dest, h.Rebind(q), args...)
}

// NextDeliveryDue says when the earliest pending delivery to an enabled
// endpoint falls due (its lease included), or false when none is pending.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var at *int64
	err := s.db.GetContext(ctx, &at, `SELECT MIN(CASE WHEN d.leased_until > d.next_attempt_at
		THEN d.leased_until ELSE d.next_attempt_at END)
		FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
		WHERE d.status = 'pending' AND w.status = 'enabled'`)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next delivery due: %w", mapErr(err))
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return time.Unix(*at, 0), true, nil
}

// AttemptResult is what one attempt to deliver came to.
type AttemptResult struct {
	Started    time.Time
	Duration   time.Duration
	StatusCode int    // 0 when no HTTP answer came
	Error      string // why it failed; "" when it succeeded
	Succeeded  bool
}

// DeliveryAttempt is the record of one attempt.
type DeliveryAttempt struct {
	Seq        int64  `db:"seq"`
	ID         string `db:"id"`
	EventID    string `db:"event_id"`
	EndpointID string `db:"endpoint_id"`
	Attempt    int    `db:"attempt"`
	Created    int64  `db:"created"`
	DurationMS int64  `db:"duration_ms"`
	StatusCode int    `db:"status_code"`
	Error      string `db:"error"`
	Succeeded  bool   `db:"succeeded"`
}

// RecordAttempt records what the attempt of claimed delivery d came to and
// what follows: delivered; or due again on the retry schedule; or, once
// RetryWindow has passed, given up. An endpoint that failed every attempt
// for the whole life of an event given up on is disabled, and says why.
// A delivery taken over meanwhile (its lease ran out) keeps the state its
// new holder gives it; the attempt is recorded all the same.
// It reports whether the endpoint was disabled.
func (s *Store) RecordAttempt(ctx context.Context, d *Delivery, r AttemptResult) (disabled bool, err error) {
	now := s.now().Unix()
	a := DeliveryAttempt{ID: newID("whatt_"), EventID: d.Event.ID, EndpointID: d.Endpoint.ID, Attempt: d.Attempt,
		Created: r.Started.Unix(), DurationMS: r.Duration.Milliseconds(), StatusCode: r.StatusCode,
		Error: r.Error, Succeeded: r.Succeeded}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Locked, so that the endpoint cannot be deleted under the record.
		var cur struct {
			Attempts int    `db:"attempts"`
			Status   string `db:"status"`
		}
		err := tx.GetContext(ctx, &cur, tx.Rebind(`SELECT attempts, status FROM webhook_deliveries
			WHERE event_id = ? AND endpoint_id = ?`+s.forUpdate()), d.Event.ID, d.Endpoint.ID)
		if IsNotFound(mapErr(err)) {
			return nil // the endpoint was deleted meanwhile: nothing to record
		}
		if err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO webhook_attempts (id, event_id, endpoint_id, attempt,
			created, duration_ms, status_code, error, succeeded) VALUES (:id, :event_id, :endpoint_id, :attempt,
			:created, :duration_ms, :status_code, :error, :succeeded)`, a); err != nil {
			return err
		}
		if cur.Attempts != d.Attempt || cur.Status != DeliveryPending {
			return nil // no longer ours: its state is its new holder's to change
		}
		status, next, giveUp := DeliverySucceeded, now, false
		if !r.Succeeded {
			status = DeliveryPending
			if next, giveUp = nextAttempt(d.Attempt, d.Event.Created, now, rand.Float64()); giveUp {
				status, next = DeliveryFailed, now
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?,
			leased_until = 0 WHERE event_id = ? AND endpoint_id = ?`), status, next, d.Event.ID, d.Endpoint.ID); err != nil {
			return err
		}
		if r.Succeeded {
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`), d.Endpoint.ID)
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE webhook_endpoints SET failing_since = ?
			WHERE id = ? AND failing_since IS NULL`), now, d.Endpoint.ID); err != nil {
			return err
		}
		if !giveUp {
			return nil
		}
		// Given up: if nothing reached the endpoint since the event was
		// made, it has been failing for the whole retry window.
		var since int64
		err = tx.GetContext(ctx, &since, tx.Rebind(`SELECT failing_since FROM webhook_endpoints
			WHERE id = ? AND status = 'enabled' AND failing_since <= ?`), d.Endpoint.ID, d.Event.Created)
		if IsNotFound(mapErr(err)) {
			return nil
		}
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("Disabled automatically: every delivery since %s failed, the last with %s, and event %s "+
			"was given up after %d days of retries. Fix the endpoint, then enable it again.",
			time.Unix(since, 0).UTC().Format(time.RFC3339), lastFailure(r), d.Event.ID, int(RetryWindow/(24*time.Hour)))
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE webhook_endpoints SET status = 'disabled',
			disabled_reason = ?, disabled_at = ? WHERE id = ?`), reason, now, d.Endpoint.ID); err != nil {
			return err
		}
		disabled = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: record attempt of %s to %s: %w", d.Event.ID, d.Endpoint.ID, err)
	}
	return disabled, nil
}

func lastFailure(r AttemptResult) string {
	if r.StatusCode != 0 {
		return fmt.Sprintf("HTTP %d", r.StatusCode)
	}
	return r.Error
}

// AttemptFilter selects the attempts of one event or of one endpoint.
type AttemptFilter struct {
	EventID    string
	EndpointID string
}

// ListDeliveryAttempts returns a page of the attempts to deliver the
// merchant's events (in that mode), newest first.
func (s *Store) ListDeliveryAttempts(ctx context.Context, merchantID string, livemode bool, f AttemptFilter, p Page) ([]*DeliveryAttempt, bool, error) {
	where, args, order, err := p.cursor(ctx, s.db, "a.seq", `SELECT a.seq FROM webhook_attempts a
		JOIN webhook_events e ON e.id = a.event_id WHERE a.id = ? AND e.merchant_id = ? AND e.livemode = ?`, merchantID, livemode)
	if err != nil {
		return nil, false, fmt.Errorf("store: list delivery attempts: %w", err)
	}
	where, args = append(where, "e.merchant_id = ?", "e.livemode = ?"), append(args, merchantID, livemode)
	if f.EventID != "" {
		where, args = append(where, "a.event_id = ?"), append(args, f.EventID)
	}
	if f.EndpointID != "" {
		where, args = append(where, "a.endpoint_id = ?"), append(args, f.EndpointID)
	}
	var out []*DeliveryAttempt
	err = s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT a.seq, a.id, a.event_id, a.endpoint_id, a.attempt,
		a.created, a.duration_ms, a.status_code, a.error, a.succeeded
		FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY a.seq `+order+` LIMIT ?`), append(args, p.Limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list delivery attempts: %w", mapErr(err))
	}
	out, more := page(out, p.Limit, order)
	return out, more, nil
}
