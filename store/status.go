package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"
)

// Action is a request to move a session through its state machine.
type Action string

// Actions. Every change of a session's status or payment status is one of
// these, applied by Transition and nothing else.
const (
	ActionProcess Action = "process" // payment submitted, awaiting the provider (needs confirmation)
	ActionSucceed Action = "succeed" // payment captured
	ActionFail    Action = "fail"    // payment declined; the shopper may retry while open
	ActionExpire  Action = "expire"  // merchant expired it, or its time ran out
	ActionCancel  Action = "cancel"  // shopper or provider abandoned it
	ActionRefund  Action = "refund"  // money given back on a complete session
)

// Transition describes one change and what the caller knows about it.
type Transition struct {
	Action         Action
	Source         string // who asked: api, test_panel, sweeper, payment_event, recovery
	IfVersion      int64  // when non-zero, refuse unless the session is at this version
	EventID        string // external event id; a second delivery is refused as a duplicate
	PaymentIntent  string
	PaymentMethod  string
	Provider       string
	FailureReason  string
	FailureMessage string
	NextAction     *NextAction
	Refund         *RefundParams
	Request        RequestInfo // the API request that asked, for the events it makes
}

// RefundParams is a refund to record with ActionRefund.
type RefundParams struct {
	Amount        int64  `json:"amount"`
	Reason        string `json:"reason"`
	Status        string `json:"status"` // default succeeded
	FailureReason string `json:"failure_reason"`
}

// validate checks a provider's next action before any shopper is sent there:
// an https URL without user info, and exact origins for 3-D Secure frames.
func (n *NextAction) validate() error {
	if n == nil {
		return nil
	}
	if !oneOf(n.Type, "redirect_to_url", "three_d_secure") {
		return Invalid("next_action[type]", "next_action type must be redirect_to_url or three_d_secure")
	}
	u, err := url.Parse(n.RedirectURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(n.RedirectURL) > MaxURLLength {
		return Invalid("next_action[redirect_url]", "next_action redirect_url must be an absolute https URL without user info, at most %d characters", MaxURLLength)
	}
	for i, o := range n.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			return Invalid(fmt.Sprintf("next_action[allowed_origins][%d]", i), "%s", err)
		}
	}
	return nil
}

// ErrDuplicateEvent is returned (wrapped, with the current session) when an
// external event id was already applied: the caller answers as a replay.
var ErrDuplicateEvent = &Error{Code: ECONFLICT, Message: "this event was already applied"}

// next is the state machine: from (status, payment status) and an action to
// the new pair, or an ESTATE error saying why not.
func next(sess *Session, t Transition) (status, payment string, err error) {
	st, ps := sess.Status, sess.PaymentStatus
	refuse := func() (string, string, error) {
		return "", "", Errorf(ESTATE, "cannot %s a checkout session that is %s (payment %s)", t.Action, st, ps)
	}
	switch t.Action {
	case ActionProcess:
		if st != StatusOpen || ps == PaymentNoPaymentRequired {
			return refuse()
		}
		return StatusProcessing, PaymentPending, nil
	case ActionSucceed:
		if st != StatusOpen && st != StatusProcessing {
			return refuse()
		}
		if ps == PaymentNoPaymentRequired {
			return StatusComplete, PaymentNoPaymentRequired, nil
		}
		return StatusComplete, PaymentPaid, nil
	case ActionFail:
		if (st != StatusOpen && st != StatusProcessing) || ps == PaymentNoPaymentRequired {
			return refuse()
		}
		return StatusOpen, PaymentFailed, nil
	case ActionExpire:
		if st != StatusOpen {
			return refuse()
		}
		return StatusExpired, ps, nil
	case ActionCancel:
		if st != StatusOpen && st != StatusProcessing {
			return refuse()
		}
		if ps == PaymentPending {
			ps = PaymentUnpaid
		}
		return StatusCanceled, ps, nil
	case ActionRefund:
		if st != StatusComplete || (ps != PaymentPaid && ps != PaymentPartiallyRefunded) {
			return refuse()
		}
		r := t.Refund
		if r == nil {
			return "", "", Invalid("amount", "a refund needs an amount")
		}
		left := sess.AmountTotal - sess.AmountRefunded
		if r.Amount < 1 || r.Amount > left {
			return "", "", Invalid("amount", "refund amount must be between 1 and %d (what is left to refund)", left)
		}
		if r.Status != RefundSucceeded {
			return StatusComplete, ps, nil // recorded; money moves only when it succeeds
		}
		if r.Amount == left {
			return StatusComplete, PaymentRefunded, nil
		}
		return StatusComplete, PaymentPartiallyRefunded, nil
	}
	return "", "", Invalid("type", "unknown action %q", t.Action)
}

// Transition applies t to session id: it checks the state machine, updates
// the row only if nobody changed it meanwhile (optimistic version check),
// records an event row and notifies watchers, all in one transaction.
// Illegal transitions are ESTATE errors and change nothing.
func (s *Store) Transition(ctx context.Context, id string, t Transition) (*Session, error) {
	if err := t.NextAction.validate(); err != nil {
		return nil, err
	}
	if t.Refund != nil {
		// A copy: the default status must not be written into the caller's
		// RefundParams, which may be shared (a data race, and a surprise).
		r := *t.Refund
		t.Refund = &r
		if t.Refund.Status == "" {
			t.Refund.Status = RefundSucceeded
		}
		if !oneOf(t.Refund.Status, RefundPending, RefundSucceeded, RefundFailed, RefundCanceled) {
			return nil, Invalid("refund[status]", "refund status must be one of pending, succeeded, failed, canceled")
		}
	}
	for attempt := 0; ; attempt++ {
		sess, err := s.transitionOnce(ctx, id, t)
		// A concurrent change won the race: look again (the state machine
		// decides on the new state) unless the caller pinned a version.
		if ECONFLICT == ErrorCode(err) && !errors.Is(err, ErrDuplicateEvent) && t.IfVersion == 0 && attempt < 3 {
			continue
		}
		if err != nil && !errors.Is(err, ErrDuplicateEvent) {
			return nil, fmt.Errorf("store: %s session %s: %w", t.Action, id, err)
		}
		if err == nil && s.OnChange != nil {
			s.OnChange(id)
		}
		return sess, err
	}
}

var errVersion = &Error{Code: ECONFLICT, Message: "the checkout session was changed concurrently; retry"}

func (s *Store) transitionOnce(ctx context.Context, id string, t Transition) (*Session, error) {
	var out *Session
	dup := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// On PostgreSQL, concurrent writers of one session queue on its row
		// lock and each then reads the state the previous one committed.
		// Without it they all read the same version, all but one fail the
		// version check, and after a few retries a legitimate change (say,
		// one of 20 concurrent partial refunds) is refused as a conflict.
		// SQLite needs no lock: BEGIN IMMEDIATE already serialises writers.
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE"
		}
		var sess Session
		if err := tx.GetContext(ctx, &sess, tx.Rebind(`SELECT `+sessionColumns+` FROM checkout_sessions WHERE id = ?`+lock), id); err != nil {
			return mapErr(err)
		}
		if t.EventID != "" {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM session_events
				WHERE merchant_id = ? AND livemode = ? AND external_id = ?`), sess.MerchantID, sess.Livemode, t.EventID); err != nil {
				return err
			}
			if n > 0 {
				dup = true
				if err := loadChildren(ctx, tx, []*Session{&sess}); err != nil {
					return err
				}
				sess.Effective(s.now().Unix())
				out = &sess
				return nil
			}
		}
		if t.IfVersion != 0 && t.IfVersion != sess.Version {
			return errVersion
		}
		now := s.now().Unix()
		from := sess // the stored state, before the clock and the action
		// The merchant may expire an open session at any time; every other
		// action sees the session as the clock does.
		if t.Action != ActionExpire {
			sess.Effective(now)
		}
		status, payment, err := next(&sess, t)
		if err != nil {
			return err
		}
		sess.Status, sess.PaymentStatus = status, payment
		sess.Version, sess.Updated, sess.LastActivityAt = from.Version+1, now, now
		setIf := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		setIf(&sess.PaymentIntent, t.PaymentIntent)
		setIf(&sess.PaymentMethod, t.PaymentMethod)
		setIf(&sess.Provider, t.Provider)
		at := func(p **int64) {
			if *p == nil {
				*p = &now
			}
		}
		switch t.Action {
		case ActionProcess:
			at(&sess.ConfirmedAt)
			sess.NextAction = t.NextAction
			sess.FailureReason, sess.FailureMessage = "", ""
		case ActionSucceed:
			at(&sess.ConfirmedAt)
			if sess.PaymentStatus == PaymentPaid {
				at(&sess.PaidAt)
			}
			at(&sess.CompletedAt)
			sess.NextAction, sess.FailureReason, sess.FailureMessage = nil, "", ""
		case ActionFail:
			// What the shopper does next is the provider's to say: a retry
			// URL with the failure, or nothing (the challenge it replaces is
			// spent either way).
			sess.NextAction = t.NextAction
			sess.FailureReason, sess.FailureMessage = t.FailureReason, t.FailureMessage
			if sess.FailureReason == "" {
				sess.FailureReason = "generic_decline"
			}
		case ActionExpire:
			sess.ExpiredAt = &now
			if from.Status == StatusOpen && now >= from.ExpiresAt {
				exp := from.ExpiresAt // the sweeper records when it really expired
				sess.ExpiredAt = &exp
			}
			sess.NextAction = nil
		case ActionCancel:
			at(&sess.CanceledAt)
			sess.NextAction = nil
		case ActionRefund:
			r := t.Refund
			ref := Refund{ID: newID("re_"), SessionID: sess.ID, Amount: r.Amount, Currency: sess.Currency,
				Status: r.Status, Reason: r.Reason, FailureReason: r.FailureReason, Created: now}
			if _, err := tx.NamedExecContext(ctx, `INSERT INTO refunds (`+refundColumns+`) VALUES (:id, :session_id, :amount, :currency, :status, :reason,
				:failure_reason, :created)`, ref); err != nil {
				return err
			}
			if r.Status == RefundSucceeded {
				sess.AmountRefunded += r.Amount
			}
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE checkout_sessions SET status = ?, payment_status = ?,
			payment_intent = ?, payment_method = ?, provider = ?, next_action = ?, failure_reason = ?,
			failure_message = ?, amount_refunded = ?, confirmed_at = ?, paid_at = ?, completed_at = ?,
			canceled_at = ?, expired_at = ?, updated = ?, last_activity_at = ?, version = ?
			WHERE id = ? AND version = ?`),
			sess.Status, sess.PaymentStatus, sess.PaymentIntent, sess.PaymentMethod, sess.Provider,
			sess.NextAction, sess.FailureReason, sess.FailureMessage, sess.AmountRefunded, sess.ConfirmedAt,
			sess.PaidAt, sess.CompletedAt, sess.CanceledAt, sess.ExpiredAt, sess.Updated, sess.LastActivityAt,
			sess.Version, sess.ID, from.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errVersion
		}
		data, _ := json.Marshal(map[string]any{
			"payment_intent": t.PaymentIntent, "payment_method": t.PaymentMethod, "provider": t.Provider,
			"failure_reason": t.FailureReason, "failure_message": t.FailureMessage, "refund": t.Refund,
		})
		var extID *string
		if t.EventID != "" {
			extID = &t.EventID
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO session_events (session_id, merchant_id,
			livemode, external_id, action, source, from_status, to_status, from_payment_status,
			to_payment_status, version, data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			sess.ID, sess.MerchantID, sess.Livemode, extID, string(t.Action), t.Source, from.Status, sess.Status,
			from.PaymentStatus, sess.PaymentStatus, sess.Version, string(data), now); err != nil {
			return err
		}
		if s.engine == Postgres {
			// Delivered at commit to every instance LISTENing: the payload is
			// only the id; listeners re-read the store.
			if _, err := tx.ExecContext(ctx, `SELECT pg_notify('paypage_sessions', $1)`, sess.ID); err != nil {
				return err
			}
		}
		if err := loadChildren(ctx, tx, []*Session{&sess}); err != nil {
			return err
		}
		if err := insertOutboxEvents(ctx, tx, &from, &sess, t, now); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		out = &sess
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dup {
		return out, ErrDuplicateEvent
	}
	return out, nil
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

// SweepExpired persists the expiry of every open session whose time ran out,
// through Transition like any other change. It returns how many it expired.
func (s *Store) SweepExpired(ctx context.Context) (int, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind(`SELECT id FROM checkout_sessions
		WHERE status = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT 500`), s.now().Unix()); err != nil {
		return 0, fmt.Errorf("store: sweep: %w", mapErr(err))
	}
	n := 0
	for _, id := range ids {
		_, err := s.Transition(ctx, id, Transition{Action: ActionExpire, Source: "sweeper"})
		switch ErrorCode(err) {
		case "":
			n++
		case ESTATE: // changed meanwhile (paid, canceled…): nothing to sweep
		default:
			return n, err
		}
	}
	return n, nil
}

// Recover restarts an expired session whose merchant allows recovery as a
// new open child: same items, URLs and settings, a fresh expiry. Once a
// child exists, recovering again returns it, whatever its state, rather than
// making another: a double click, a second tab or the back button lead the
// shopper to the same checkout, and a paid order is never offered twice.
func (s *Store) Recover(ctx context.Context, parentID string) (*Session, error) {
	parent, err := s.Session(ctx, parentID)
	if err != nil {
		return nil, err
	}
	if parent.Status != StatusExpired || !parent.RecoveryEnabled {
		return nil, Errorf(ESTATE, "checkout session %s cannot be recovered", parentID)
	}
	m, err := s.Merchant(ctx, parent.MerchantID)
	if err != nil {
		return nil, err
	}
	p := parent.params()
	p.ParentID = parent.ID
	now := s.now()
	child, err := p.build(m, parent.Livemode, now)
	if err != nil {
		return nil, fmt.Errorf("store: recover %s: %w", parentID, err)
	}
	child.ID = newID("cs_" + modePrefix(parent.Livemode))
	var childID string
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Recoveries of one parent queue on its row (SQLite's BEGIN
		// IMMEDIATE already serialises writers), so only one finds no child.
		if s.engine == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM checkout_sessions WHERE id = $1 FOR UPDATE`, parentID); err != nil {
				return err
			}
		}
		err := tx.GetContext(ctx, &childID, tx.Rebind(`SELECT id FROM checkout_sessions
			WHERE parent_id = ? ORDER BY seq DESC LIMIT 1`), parentID)
		if ErrorCode(mapErr(err)) != ENOTFOUND {
			return err
		}
		return s.insertSession(ctx, tx, child)
	})
	if err != nil {
		return nil, fmt.Errorf("store: recover %s: %w", parentID, err)
	}
	if childID != "" {
		return s.Session(ctx, childID)
	}
	return child, nil
}

// params rebuilds creation parameters from a stored session (for recovery).
func (s *Session) params() *SessionParams {
	p := &SessionParams{
		Mode: s.Mode, Currency: s.Currency, Customer: s.CustomerID, Guest: s.Guest,
		ClientReferenceID: s.ClientReferenceID, SuccessURL: s.SuccessURL, CancelURL: s.CancelURL,
		PendingURL: s.PendingURL, ReturnURL: s.ReturnURL, AfterCompletion: &s.AfterCompletion,
		Locale: s.Locale, Appearance: s.Appearance, CustomText: &s.CustomText,
		PaymentMethodTypes: s.PaymentMethodTypes, WalletOptions: s.WalletOptions,
		DisplayCurrency: s.DisplayCurrency, Metadata: s.Metadata, Attribution: s.Attribution,
		Contract: s.Contract, Estimate: s.Estimate, CorrelationID: s.CorrelationID,
		RecoveryEnabled: &s.RecoveryEnabled,
	}
	cust := s.Customer
	p.CustomerDetails = &cust
	for _, li := range s.LineItems {
		unit := li.UnitAmount
		lp := LineItemParams{Quantity: li.Quantity, TaxAmount: li.AmountTax, PriceData: &PriceData{
			Currency: s.Currency, UnitAmount: &unit,
			ProductData: &ProductData{Name: li.Name, Description: li.Description, Images: li.Images},
		}}
		if li.RecurringInterval != "" {
			lp.PriceData.Recurring = &Recurring{Interval: li.RecurringInterval, IntervalCount: li.RecurringIntervalCount}
		}
		p.LineItems = append(p.LineItems, lp)
	}
	for _, a := range s.Adjustments {
		p.Fees = append(p.Fees, AdjustmentParams{Type: a.Kind, Label: a.Label, Amount: a.Amount})
	}
	return p
}
