package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

const sessionColumns = `seq, id, merchant_id, livemode, mode, status, payment_status, currency,
	display_currency, amount_subtotal, amount_total, amount_discount, amount_tax, amount_shipping,
	amount_refunded, customer_id, customer, guest, client_reference_id, success_url, cancel_url,
	pending_url, return_url, after_completion, locale, appearance, custom_text, payment_method_types,
	wallet_options, payment_method, provider, payment_intent, next_action, failure_reason,
	failure_message, parent_id, recovery_enabled, metadata, attribution, contract, estimate,
	idempotency_key, correlation_id, created, updated, expires_at, confirmed_at, paid_at,
	completed_at, canceled_at, expired_at, last_activity_at, version, contract_id, execution_id,
	business_entity_id, client_customer_id, description, submit_type, billing_address_collection,
	customer_creation, settled_by, provider_origin`

// Column lists of the session's child tables, shared by every read.
const (
	lineItemColumns = `id, session_id, position, name, description, images, product_id, price_id,
	quantity, unit_amount, amount_subtotal, amount_discount, amount_tax, amount_total,
	recurring_interval, recurring_interval_count, metadata, unit_label, lookup_key`
	adjustmentColumns = `session_id, position, kind, label, amount`
	refundColumns     = `id, session_id, amount, currency, status, reason, failure_reason, created, updated`
)

// namedInsert is the named INSERT of columns into table, built from the
// column list that reads them back, so that the two never drift apart.
func namedInsert(table, columns string) string {
	cols := strings.Fields(strings.ReplaceAll(columns, ",", " "))
	return `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (:` + strings.Join(cols, ", :") + `)`
}

// The INSERTs of a session (every column but seq, which it returns) and of
// its child rows.
var (
	insertSessionSQL    = namedInsert("checkout_sessions", strings.TrimPrefix(sessionColumns, "seq, ")) + ` RETURNING seq`
	insertLineItemSQL   = namedInsert("line_items", lineItemColumns)
	insertAdjustmentSQL = namedInsert("adjustments", adjustmentColumns)
	insertRefundSQL     = namedInsert("refunds", refundColumns)
)

// CreateSession validates p, computes the totals and stores a new open session
// with its line items and fees, all or nothing. A session the merchant made
// with the same idempotency key in the last 24 hours is returned instead;
// the key's record answers with the session (answerFromSession).
func (s *Store) CreateSession(ctx context.Context, m *Merchant, livemode bool, p *SessionParams) (*Session, error) {
	sess, err := s.buildSession(ctx, m, livemode, p)
	if err != nil {
		return nil, err
	}
	if sess.IdempotencyKey == "" {
		if err := s.inTx(ctx, func(tx *sqlx.Tx) error { return s.insertSession(ctx, tx, sess) }); err != nil {
			return nil, fmt.Errorf("store: create session: %w", err)
		}
		return sess, nil
	}
	prior, err := s.createKeyed(ctx, sess, &Idempotency{StatusCode: answerFromSession, Created: sess.Created, SessionID: sess.ID}, nil)
	switch {
	case ErrorCode(err) == ECONFLICT:
		return nil, ErrIdempotencyInProgress
	case err != nil:
		return nil, err
	case prior == nil:
		return sess, nil
	case prior.SessionID == "":
		return nil, ErrIdempotencyMismatch // the key of another kind of request
	}
	return s.Session(ctx, prior.SessionID)
}

// buildSession builds the session p describes, with its id, not yet stored.
func (s *Store) buildSession(ctx context.Context, m *Merchant, livemode bool, p *SessionParams) (*Session, error) {
	p, err := s.findPrices(ctx, m.ID, livemode, p)
	if err != nil {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	sess, err := p.build(m, livemode, s.now())
	if err != nil {
		return nil, err
	}
	sess.ID = newID("cs_" + modePrefix(livemode))
	return sess, nil
}

// findPrices returns p with the stored prices its line items name looked
// up among the merchant's line items of that mode (the first line item that
// was given the price holds it). p itself is left as it is.
func (s *Store) findPrices(ctx context.Context, merchantID string, livemode bool, p *SessionParams) (*SessionParams, error) {
	if !slices.ContainsFunc(p.LineItems, func(lp LineItemParams) bool { return lp.Price != "" }) {
		return p, nil
	}
	found := *p
	found.LineItems = slices.Clone(p.LineItems)
	for i := range found.LineItems {
		lp := &found.LineItems[i]
		if !strings.HasPrefix(lp.Price, "price_") || len(lp.Price) > 64 {
			continue // refused by build, naming the parameter
		}
		var sp storedPrice
		err := s.db.GetContext(ctx, &sp, s.db.Rebind(`SELECT li.price_id, li.product_id, s.currency, li.name,
			li.description, li.images, li.unit_amount, li.recurring_interval, li.recurring_interval_count,
			li.unit_label, li.lookup_key
			FROM line_items li JOIN checkout_sessions s ON s.id = li.session_id
			WHERE li.price_id = ? AND s.merchant_id = ? AND s.livemode = ? ORDER BY s.seq LIMIT 1`),
			lp.Price, merchantID, livemode)
		switch err := mapErr(err); {
		case IsNotFound(err):
		case err != nil:
			return nil, err
		default:
			lp.stored = &sp
		}
	}
	return &found, nil
}

func (s *Store) insertSession(ctx context.Context, tx *sqlx.Tx, sess *Session) error {
	return s.insertSessionWith(ctx, tx, sess, nil)
}

// insertSessionWith is insertSession with a WITH clause before the
// session's INSERT, made by with from the number of its first parameter
// (they follow the session's own), and withArgs its parameters.
func (s *Store) insertSessionWith(ctx context.Context, tx *sqlx.Tx, sess *Session, with func(first int) string, withArgs ...any) error {
	q, args, err := tx.BindNamed(insertSessionSQL, sess)
	if err != nil {
		return err
	}
	if with != nil {
		q = with(len(args)+1) + q
	}
	if err := tx.GetContext(ctx, &sess.Seq, q, append(args, withArgs...)...); err != nil {
		return err
	}
	for i := range sess.LineItems {
		li := &sess.LineItems[i]
		li.SessionID = sess.ID
		if _, err := tx.NamedExecContext(ctx, insertLineItemSQL, li); err != nil {
			return err
		}
	}
	for i := range sess.Adjustments {
		a := &sess.Adjustments[i]
		a.SessionID = sess.ID
		if _, err := tx.NamedExecContext(ctx, insertAdjustmentSQL, a); err != nil {
			return err
		}
	}
	return nil
}

// Session returns a session by id with its line items, fees and refunds, as
// the shopper's pages see it: any merchant, with the clock applied.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	sess, err := s.getSession(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: get session %s: %w", id, err)
	}
	return sess, nil
}

// MerchantSession returns a session only when it belongs to merchant and mode;
// otherwise ENOTFOUND, exactly as for an id that does not exist.
func (s *Store) MerchantSession(ctx context.Context, merchantID string, livemode bool, id string) (*Session, error) {
	sess, err := s.getSession(ctx, id)
	if err == nil {
		err = ownedBy(sess, merchantID, livemode)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get session %s: %w", id, err)
	}
	return sess, nil
}

// ownedBy refuses a session of another merchant or mode exactly as an id
// that does not exist, so that ids cannot be probed across merchants.
func ownedBy(sess *Session, merchantID string, livemode bool) error {
	if sess.MerchantID != merchantID || sess.Livemode != livemode {
		return &Error{Code: ENOTFOUND, Message: "not found"}
	}
	return nil
}

// errNoSession answers, without asking the database, an id that cannot be
// a session's (bytes that are not text included).
var errNoSession = &Error{Code: ENOTFOUND, Message: "not found"}

func (s *Store) getSession(ctx context.Context, id string) (*Session, error) {
	return s.getSessionIn(ctx, nil, id)
}

// getSessionIn is getSession in tx (on the pool when tx is nil).
func (s *Store) getSessionIn(ctx context.Context, tx *sqlx.Tx, id string) (*Session, error) {
	sess, _, err := s.readSession(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	sess.Effective(s.now().Unix())
	return sess, nil
}

// ListParams selects a page of a merchant's sessions, newest first.
type ListParams struct {
	Limit         int    // 1..100
	StartingAfter string // session id: the page after it
	EndingBefore  string // session id: the page before it
	Status        string
	// StripeStatus selects by the status Stripe's dialect reports instead
	// (open, complete, expired): see handlers/dialect's stripeStates, which
	// this mirrors in SQL (TestAPIStripeStatusFilterMatchesTheObjects holds
	// the two together).
	StripeStatus      string
	ClientReferenceID string
	Customer          string
	CreatedGTE        int64
	CreatedLTE        int64
	ParentID          string
}

// ListSessions returns up to p.Limit sessions and whether there are more.
// Children (line items…) are not loaded; list answers do not carry them.
func (s *Store) ListSessions(ctx context.Context, merchantID string, livemode bool, p ListParams) ([]*Session, bool, error) {
	if p.Limit < 1 || p.Limit > 100 {
		return nil, false, Invalid("limit", "limit must be between 1 and 100")
	}
	for _, f := range []struct{ param, v string }{
		{"starting_after", p.StartingAfter}, {"ending_before", p.EndingBefore}, {"client_reference_id", p.ClientReferenceID},
		{"customer", p.Customer}, {"recovered_from", p.ParentID},
	} {
		if !IsText(f.v) {
			return nil, false, errNotText(f.param)
		}
	}
	where := []string{"merchant_id = ?", "livemode = ?"}
	args := []any{merchantID, livemode}
	order := "DESC"
	cursor := func(param, id, op string) error {
		var seq int64
		err := s.db.GetContext(ctx, &seq, s.db.Rebind(`SELECT seq FROM checkout_sessions
			WHERE id = ? AND merchant_id = ? AND livemode = ?`), id, merchantID, livemode)
		if err != nil {
			if IsNotFound(mapErr(err)) {
				return Invalid(param, "no such checkout session: %q", id)
			}
			return fmt.Errorf("store: list sessions: %s: %w", param, mapErr(err))
		}
		where = append(where, "seq "+op+" ?")
		args = append(args, seq)
		return nil
	}
	switch {
	case p.StartingAfter != "" && p.EndingBefore != "":
		return nil, false, Invalid("ending_before", "starting_after and ending_before cannot be used together")
	case p.StartingAfter != "":
		if err := cursor("starting_after", p.StartingAfter, "<"); err != nil {
			return nil, false, err
		}
	case p.EndingBefore != "":
		if err := cursor("ending_before", p.EndingBefore, ">"); err != nil {
			return nil, false, err
		}
		order = "ASC"
	}
	now := s.now().Unix()
	filters, fargs, err := p.filters(now)
	if err != nil {
		return nil, false, err
	}
	where, args = append(where, filters...), append(args, fargs...)
	args = append(args, p.Limit+1)
	q := `SELECT ` + sessionColumns + ` FROM checkout_sessions WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY seq ` + order + ` LIMIT ?`
	var out []*Session
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind(q), args...); err != nil {
		return nil, false, fmt.Errorf("store: list sessions: %w", mapErr(err))
	}
	more := len(out) > p.Limit
	if more {
		out = out[:p.Limit]
	}
	if order == "ASC" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for _, sess := range out {
		sess.Effective(now)
	}
	return out, more, nil
}

// filters are the WHERE conditions (and their arguments) of p's status,
// reference, customer, parent and creation filters, at the unix second now.
func (p ListParams) filters(now int64) (where []string, args []any, err error) {
	switch p.Status {
	case "":
	// Expiry is exact on read, so an open session past its expiry lists as expired.
	case StatusOpen:
		where = append(where, "status = 'open' AND expires_at > ?")
		args = append(args, now)
	case StatusExpired:
		where = append(where, "(status = 'expired' OR (status = 'open' AND expires_at <= ?))")
		args = append(args, now)
	case StatusComplete, StatusProcessing, StatusCanceled:
		where = append(where, "status = ?")
		args = append(args, p.Status)
	default:
		return nil, nil, Invalid("status", "status must be one of open, processing, complete, expired, canceled")
	}
	switch p.StripeStatus {
	case "":
	case "open": // open, or waiting for the shopper to act (3-D Secure)
		where = append(where, "((status = 'open' AND expires_at > ?) OR (status = 'processing' AND next_action IS NOT NULL))")
		args = append(args, now)
	case "complete": // complete, or an asynchronous payment settling
		where = append(where, "(status = 'complete' OR (status = 'processing' AND next_action IS NULL))")
	case "expired": // expired (by the clock too) or canceled
		where = append(where, "(status IN ('expired', 'canceled') OR (status = 'open' AND expires_at <= ?))")
		args = append(args, now)
	default:
		return nil, nil, Invalid("status", "status must be one of open, complete, expired")
	}
	for _, f := range []struct{ col, v string }{
		{"client_reference_id", p.ClientReferenceID}, {"customer_id", p.Customer}, {"parent_id", p.ParentID},
	} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if p.CreatedGTE != 0 {
		where = append(where, "created >= ?")
		args = append(args, p.CreatedGTE)
	}
	if p.CreatedLTE != 0 {
		where = append(where, "created <= ?")
		args = append(args, p.CreatedLTE)
	}
	return where, args, nil
}

// LineItems returns a session's line items after the given line item id
// (paginated like ListSessions, in position order).
func (s *Store) LineItems(ctx context.Context, sessionID string, limit int, startingAfter, endingBefore string) ([]LineItem, bool, error) {
	if limit < 1 || limit > 100 {
		return nil, false, Invalid("limit", "limit must be between 1 and 100")
	}
	if !IsText(startingAfter) {
		return nil, false, errNotText("starting_after")
	}
	if !IsText(endingBefore) {
		return nil, false, errNotText("ending_before")
	}
	where, args, order := "session_id = ?", []any{sessionID}, "ASC"
	pos := func(param, id string) (int, error) {
		var p int
		err := s.db.GetContext(ctx, &p, s.db.Rebind(`SELECT position FROM line_items WHERE id = ? AND session_id = ?`), id, sessionID)
		if IsNotFound(mapErr(err)) {
			return 0, Invalid(param, "no such line item: %q", id)
		}
		if err != nil {
			return 0, fmt.Errorf("store: list line items: %s: %w", param, mapErr(err))
		}
		return p, nil
	}
	switch {
	case startingAfter != "" && endingBefore != "":
		return nil, false, Invalid("ending_before", "starting_after and ending_before cannot be used together")
	case startingAfter != "":
		p, err := pos("starting_after", startingAfter)
		if err != nil {
			return nil, false, err
		}
		where += " AND position > ?"
		args = append(args, p)
	case endingBefore != "":
		p, err := pos("ending_before", endingBefore)
		if err != nil {
			return nil, false, err
		}
		where += " AND position < ?"
		args = append(args, p)
		order = "DESC"
	}
	args = append(args, limit+1)
	var out []LineItem
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+lineItemColumns+` FROM line_items WHERE `+where+` ORDER BY position `+order+` LIMIT ?`), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list line items: %w", mapErr(err))
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if order == "DESC" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

// LoadChildren fills in the line items, fees and refunds of sessions read by
// ListSessions, in one query per table rather than three per session.
func (s *Store) LoadChildren(ctx context.Context, sessions []*Session) error {
	return loadChildren(ctx, s.db, sessions)
}

// loadChildren is LoadChildren on any handler, a transaction's too.
func loadChildren(ctx context.Context, h Handler, sessions []*Session) error {
	if len(sessions) == 0 {
		return nil
	}
	ids := make([]string, len(sessions))
	byID := make(map[string]*Session, len(sessions))
	for i, sess := range sessions {
		ids[i] = sess.ID
		byID[sess.ID] = sess
		sess.LineItems, sess.Adjustments, sess.Refunds = nil, nil, nil
	}
	sel := func(dest any, what, columns, table, order string) error {
		q, args, err := sqlx.In(`SELECT `+columns+` FROM `+table+` WHERE session_id IN (?) ORDER BY session_id, `+order, ids)
		if err == nil {
			err = h.SelectContext(ctx, dest, h.Rebind(q), args...)
		}
		if err != nil {
			return fmt.Errorf("store: load %s: %w", what, mapErr(err))
		}
		return nil
	}
	var items []LineItem
	if err := sel(&items, "line items", lineItemColumns, "line_items", "position"); err != nil {
		return err
	}
	for _, li := range items {
		byID[li.SessionID].LineItems = append(byID[li.SessionID].LineItems, li)
	}
	var adjs []Adjustment
	if err := sel(&adjs, "fees", adjustmentColumns, "adjustments", "position"); err != nil {
		return err
	}
	for _, a := range adjs {
		byID[a.SessionID].Adjustments = append(byID[a.SessionID].Adjustments, a)
	}
	var refunds []Refund
	if err := sel(&refunds, "refunds", refundColumns, "refunds", "seq"); err != nil {
		return err
	}
	for _, r := range refunds {
		byID[r.SessionID].Refunds = append(byID[r.SessionID].Refunds, r)
	}
	return nil
}

// State is the public part of a session's state: what live updates publish
// (nothing about the shopper, nothing of the merchant's metadata).
type State struct {
	ID            string `db:"id" json:"id"`
	Status        string `db:"status" json:"status"`
	PaymentStatus string `db:"payment_status" json:"payment_status"`
	Version       int64  `db:"version" json:"version"`
	ExpiresAt     int64  `db:"expires_at" json:"expires_at"`
}

// SessionState reads only a session's state, in one query, with the clock
// applied: live streams and /status polling read it on every change.
func (s *Store) SessionState(ctx context.Context, id string) (State, error) {
	st, err := s.rawSessionState(ctx, id)
	if err != nil {
		return State{}, err
	}
	return s.clockState(st), nil
}

const sessionStateSQL = `SELECT id, status, payment_status, version, expires_at FROM checkout_sessions WHERE id = ?`

// rawSessionState is SessionState as stored, before the clock.
func (s *Store) rawSessionState(ctx context.Context, id string) (State, error) {
	if !IsSessionID(id) {
		return State{}, fmt.Errorf("store: get state of %s: %w", id, errNoSession)
	}
	stmt, err := s.prepared(ctx, sessionStateSQL)
	if err != nil {
		return State{}, fmt.Errorf("store: get state of %s: %w", id, mapErr(err))
	}
	var st State
	if err := stmt.GetContext(ctx, &st, id); err != nil {
		return State{}, fmt.Errorf("store: get state of %s: %w", id, mapErr(err))
	}
	return st, nil
}

// clockState is st with the clock applied: open past its expiry is expired.
func (s *Store) clockState(st State) State {
	if st.Status == StatusOpen && s.now().Unix() >= st.ExpiresAt {
		st.Status = StatusExpired
	}
	return st
}

// SessionOwner says, in one query, whose a session is and in which mode:
// enough to scope a request before the one read that changes it.
func (s *Store) SessionOwner(ctx context.Context, id string) (merchantID string, livemode bool, err error) {
	if !IsSessionID(id) {
		return "", false, fmt.Errorf("store: owner of %s: %w", id, errNoSession)
	}
	var row struct {
		MerchantID string `db:"merchant_id"`
		Livemode   bool   `db:"livemode"`
	}
	err = s.db.GetContext(ctx, &row, s.db.Rebind(`SELECT merchant_id, livemode FROM checkout_sessions WHERE id = ?`), id)
	if err != nil {
		return "", false, fmt.Errorf("store: owner of %s: %w", id, mapErr(err))
	}
	return row.MerchantID, row.Livemode, nil
}
