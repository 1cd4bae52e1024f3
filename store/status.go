package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// The transaction around the state machine (apply, in transition.go): lock
// the session, apply the change, write the row, its refunds and an event
// row, notify, and settle the parent of a paid recovery child, all in one
// transaction.

// ErrDuplicateEvent is returned (wrapped, with the current session) when an
// external event id was already applied: the caller answers as a replay.
var ErrDuplicateEvent = &Error{Code: ECONFLICT, Message: "this event was already applied"}

// Transition applies t to session id: it checks the state machine, updates
// the row only if nobody changed it meanwhile (optimistic version check),
// records an event row and notifies watchers, all in one transaction.
// Illegal transitions are ESTATE errors and change nothing.
func (s *Store) Transition(ctx context.Context, id string, t Transition) (*Session, error) {
	if !IsSessionID(id) {
		return nil, fmt.Errorf("store: %s session %s: %w", t.Action, id, errNoSession)
	}
	if err := t.prepare(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		sess, changed, err := s.transitionOnce(ctx, id, t)
		// A concurrent change won the race: look again (the state machine
		// decides on the new state) unless the caller pinned a version.
		if ECONFLICT == ErrorCode(err) && !errors.Is(err, ErrDuplicateEvent) && t.IfVersion == 0 && attempt < 3 {
			continue
		}
		if err != nil && !errors.Is(err, ErrDuplicateEvent) {
			return nil, fmt.Errorf("store: %s session %s: %w", t.Action, id, err)
		}
		if err == nil {
			for _, changedID := range changed {
				if s.OnChange != nil {
					s.OnChange(changedID)
				}
			}
			if s.OnTransition != nil {
				s.OnTransition(t.Action, t.Source)
			}
			s.waitOutLease(ctx)
		}
		return sess, err
	}
}

var errVersion = &Error{Code: ECONFLICT, Message: "the checkout session was changed concurrently; retry"}

// transitionOnce is one attempt of Transition. It returns the session after
// the change and the ids of every session it changed.
func (s *Store) transitionOnce(ctx context.Context, id string, t Transition) (*Session, []string, error) {
	var out *Session
	var changed []string
	dup := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sess, err := s.lockSession(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.EventID != "" {
			if dup, err = s.seenEvent(ctx, tx, sess, t.EventID); err != nil || dup {
				sess.Effective(s.now().Unix())
				out = sess
				return err
			}
		}
		if t.IfVersion != 0 && t.IfVersion != sess.Version {
			return errVersion
		}
		if t.PinNextAction && t.NextAction != nil && urlOrigin(t.NextAction.RedirectURL) != sess.ProviderOrigin {
			return Invalid("next_action[redirect_url]", "a signed payment event may only send the shopper to the origin of the next_action the session was created with (%s); send the event with the secret key to name another",
				cmp.Or(sess.ProviderOrigin, "none was given"))
		}
		now := s.now().Unix()
		after, eff, err := apply(*sess, t, now)
		if err != nil {
			return err
		}
		if err := s.writeTransition(ctx, tx, sess, &after, eff, t, now); err != nil {
			return err
		}
		changed = append(changed, after.ID)
		if t.Action == ActionSucceed && after.ParentID != "" {
			parent, err := s.settleParent(ctx, tx, &after, t, now)
			if err != nil {
				return err
			}
			if parent != "" {
				changed = append(changed, parent)
			}
		}
		if err := loadChildren(ctx, tx, []*Session{&after}); err != nil {
			return err
		}
		out = &after
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if dup {
		return out, nil, ErrDuplicateEvent
	}
	return out, changed, nil
}

// lockSession reads a session for a change, with its child rows (the state
// machine counts refunds). On PostgreSQL, concurrent writers of one session
// queue on its row lock and each then reads the state the previous one
// committed; without it they would all read the same version, all but one
// fail the version check, and after a few retries a legitimate change (one
// of 20 concurrent partial refunds) would be refused as a conflict. SQLite
// needs no lock: BEGIN IMMEDIATE already serialises writers.
func (s *Store) lockSession(ctx context.Context, tx *sqlx.Tx, id string) (*Session, error) {
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE"
	}
	var sess Session
	if err := tx.GetContext(ctx, &sess, tx.Rebind(`SELECT `+sessionColumns+` FROM checkout_sessions WHERE id = ?`+lock), id); err != nil {
		return nil, mapErr(err)
	}
	if err := loadChildren(ctx, tx, []*Session{&sess}); err != nil {
		return nil, err
	}
	return &sess, nil
}

// seenEvent reports whether the merchant's external event id was applied
// already (to any of its sessions of that mode).
func (s *Store) seenEvent(ctx context.Context, tx *sqlx.Tx, sess *Session, eventID string) (bool, error) {
	var n int
	err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM session_events
		WHERE merchant_id = ? AND livemode = ? AND external_id = ?`), sess.MerchantID, sess.Livemode, eventID)
	return n > 0, err
}

// writeTransition writes what apply decided: the session row (if nobody
// changed it since from was read), its refund rows, an event row, and the
// notification that live pages wait for.
func (s *Store) writeTransition(ctx context.Context, tx *sqlx.Tx, from, after *Session, eff effects, t Transition, now int64) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE checkout_sessions SET status = ?, payment_status = ?,
		payment_intent = ?, payment_method = ?, provider = ?, next_action = ?, failure_reason = ?,
		failure_message = ?, amount_refunded = ?, confirmed_at = ?, paid_at = ?, completed_at = ?,
		canceled_at = ?, expired_at = ?, settled_by = ?, updated = ?, last_activity_at = ?, version = ?
		WHERE id = ? AND version = ?`),
		after.Status, after.PaymentStatus, after.PaymentIntent, after.PaymentMethod, after.Provider,
		after.NextAction, after.FailureReason, after.FailureMessage, after.AmountRefunded, after.ConfirmedAt,
		after.PaidAt, after.CompletedAt, after.CanceledAt, after.ExpiredAt, after.SettledBy, after.Updated,
		after.LastActivityAt, after.Version, after.ID, from.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errVersion
	}
	if r := eff.newRefund; r != nil {
		if _, err := tx.NamedExecContext(ctx, insertRefundSQL, r); err != nil {
			return err
		}
	}
	if r := eff.updatedRefund; r != nil {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE refunds SET status = ?, failure_reason = ?, updated = ?
			WHERE id = ? AND session_id = ?`), r.Status, r.FailureReason, r.Updated, r.ID, r.SessionID); err != nil {
			return err
		}
	}
	if err := insertEvent(ctx, tx, from, after, t, eff, now); err != nil {
		return err
	}
	if err := insertOutboxEvents(ctx, tx, from, after, t, now); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if s.engine == Postgres {
		// Delivered at commit to every instance LISTENing: the payload is
		// only the id; listeners re-read the store.
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify('paypage_sessions', $1)`, after.ID); err != nil {
			return err
		}
	}
	return nil
}

// insertEvent records the change in the session's history.
func insertEvent(ctx context.Context, tx *sqlx.Tx, from, after *Session, t Transition, eff effects, now int64) error {
	detail := map[string]any{
		"payment_intent": t.PaymentIntent, "payment_method": t.PaymentMethod, "provider": t.Provider,
		"failure_reason": t.FailureReason, "failure_message": t.FailureMessage, "refund": t.Refund,
	}
	if r := cmp.Or(eff.newRefund, eff.updatedRefund); r != nil {
		detail["refund_id"] = r.ID
	}
	if t.Child != "" {
		detail["child"] = t.Child
	}
	data, _ := json.Marshal(detail)
	var extID *string
	if t.EventID != "" {
		extID = &t.EventID
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO session_events (session_id, merchant_id,
		livemode, external_id, action, source, from_status, to_status, from_payment_status,
		to_payment_status, version, data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		after.ID, after.MerchantID, after.Livemode, extID, string(t.Action), t.Source, from.Status, after.Status,
		from.PaymentStatus, after.PaymentStatus, after.Version, string(data), now)
	return err
}

// settleParent marks the expired parent of a recovery child that was just
// paid as settled by it, in the child's transaction, so that no page of the
// parent offers to pay again. It returns the parent's id, or "" when there
// was nothing to settle (it was settled by another child already).
func (s *Store) settleParent(ctx context.Context, tx *sqlx.Tx, child *Session, t Transition, now int64) (string, error) {
	parent, err := s.lockSession(ctx, tx, child.ParentID)
	if err != nil {
		return "", err
	}
	settle := Transition{Action: ActionSettleByChild, Source: t.Source, Child: child.ID}
	after, eff, err := apply(*parent, settle, now)
	if ErrorCode(err) == ESTATE {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return parent.ID, s.writeTransition(ctx, tx, parent, &after, eff, settle, now)
}

// Event is one recorded change of a session.
type Event struct {
	Seq               int64   `db:"seq"`
	SessionID         string  `db:"session_id"`
	ExternalID        *string `db:"external_id"`
	Action            string  `db:"action"`
	Source            string  `db:"source"`
	FromStatus        string  `db:"from_status"`
	ToStatus          string  `db:"to_status"`
	FromPaymentStatus string  `db:"from_payment_status"`
	ToPaymentStatus   string  `db:"to_payment_status"`
	Version           int64   `db:"version"`
	Data              string  `db:"data"`
	Created           int64   `db:"created"`
}

// Events returns a session's history, oldest first.
func (s *Store) Events(ctx context.Context, sessionID string) ([]Event, error) {
	var out []Event
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT seq, session_id, external_id, action, source,
		from_status, to_status, from_payment_status, to_payment_status, version, data, created
		FROM session_events WHERE session_id = ? ORDER BY seq`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", sessionID, mapErr(err))
	}
	return out, nil
}
