package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Reads of one session at the cost of a hand-written handler: at most two
// statements, both prepared once per pool (PostgreSQL parses and plans them
// once per connection, SQLite compiles them once per connection). The first
// reads the session, with its merchant's page columns when asked, and says
// whether it has children; the second, sent only then, reads its line
// items, fees and refunds together.

// merchantPageColumns are the merchant's columns a shopper's page shows or
// decides on: no secrets, nothing of the API's configuration.
const merchantPageColumns = `id, name, display_name, allowed_origins, appearance, default_locale,
	support_email, support_url, terms_url, privacy_url, recovery_enabled, disabled_at`

// prefixed qualifies each column of a list with table, aliased as
// "<alias>.<column>" when alias is set (sqlx maps that to a nested struct).
func prefixed(table, alias, columns string) string {
	cols := strings.Fields(strings.ReplaceAll(columns, ",", " "))
	for i, c := range cols {
		cols[i] = table + "." + c
		if alias != "" {
			cols[i] += ` AS "` + alias + "." + c + `"`
		}
	}
	return strings.Join(cols, ", ")
}

const hasChildrenSQL = `(EXISTS (SELECT 1 FROM line_items WHERE session_id = s.id)
	OR EXISTS (SELECT 1 FROM adjustments WHERE session_id = s.id)
	OR EXISTS (SELECT 1 FROM refunds WHERE session_id = s.id)) AS has_children`

var (
	readSessionSQL = `SELECT ` + prefixed("s", "", sessionColumns) + `, ` + hasChildrenSQL +
		` FROM checkout_sessions s WHERE s.id = ?`
	readSessionPageSQL = `SELECT ` + prefixed("s", "", sessionColumns) + `, ` + prefixed("m", "m", merchantPageColumns) +
		`, ` + hasChildrenSQL + ` FROM checkout_sessions s JOIN merchants m ON m.id = s.merchant_id WHERE s.id = ?`
)

// readChildrenSQL reads the three child tables of one session in one
// statement: every row has every table's columns, the ones of other tables
// filled with neutral values, and kind says which table it is from.
const readChildrenSQL = `SELECT 'i' AS kind, position AS ord, id, position, name, description, images,
	product_id, price_id, quantity, unit_amount, amount_subtotal, amount_discount, amount_tax, amount_total,
	recurring_interval, recurring_interval_count, metadata, unit_label, lookup_key,
	'' AS adj_kind, '' AS label, 0 AS amount, '' AS currency, '' AS status, '' AS reason,
	'' AS failure_reason, 0 AS created, 0 AS updated
	FROM line_items WHERE session_id = ?
UNION ALL
SELECT 'a', position, '', position, '', '', '[]', '', '', 0, 0, 0, 0, 0, 0, '', 0, '{}', '', '',
	kind, label, amount, '', '', '', '', 0, 0
	FROM adjustments WHERE session_id = ?
UNION ALL
SELECT 'r', seq, id, 0, '', '', '[]', '', '', 0, 0, 0, 0, 0, 0, '', 0, '{}', '', '',
	'', '', amount, currency, status, reason, failure_reason, created, updated
	FROM refunds WHERE session_id = ?
ORDER BY 1, 2`

// sessionRow is the first statement's row.
type sessionRow struct {
	Session
	M           Merchant `db:"m"`
	HasChildren bool     `db:"has_children"`
}

// childRow is a row of readChildrenSQL.
type childRow struct {
	Kind string `db:"kind"`
	Ord  int64  `db:"ord"`
	LineItem
	AdjKind       string `db:"adj_kind"`
	Label         string `db:"label"`
	Amount        int64  `db:"amount"`
	Currency      string `db:"currency"`
	Status        string `db:"status"`
	Reason        string `db:"reason"`
	FailureReason string `db:"failure_reason"`
	Created       int64  `db:"created"`
	Updated       int64  `db:"updated"`
}

// SessionPage returns a session with its children and its merchant's page
// columns (the merchant's secrets are not read), with the clock applied, in
// at most two statements: what a shopper's page shows.
func (s *Store) SessionPage(ctx context.Context, id string) (*Session, *Merchant, error) {
	sess, m, err := s.readSession(ctx, nil, id, true)
	if err != nil {
		return nil, nil, fmt.Errorf("store: get session %s: %w", id, err)
	}
	sess.Effective(s.now().Unix())
	return sess, m, nil
}

// readSession reads session id (and its merchant's page columns when
// withMerchant) and its children, in at most two prepared statements, as
// stored: the clock is not applied. It reads in tx when tx is not nil.
func (s *Store) readSession(ctx context.Context, tx *sqlx.Tx, id string, withMerchant bool) (*Session, *Merchant, error) {
	if !IsSessionID(id) {
		return nil, nil, errNoSession
	}
	q := readSessionSQL
	if withMerchant {
		q = readSessionPageSQL
	}
	stmt, err := s.preparedIn(ctx, tx, q)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	var row sessionRow
	if err := stmt.GetContext(ctx, &row, id); err != nil {
		return nil, nil, mapErr(err)
	}
	sess := &row.Session
	if row.HasChildren {
		if err := s.readChildren(ctx, tx, sess); err != nil {
			return nil, nil, err
		}
	}
	if !withMerchant {
		return sess, nil, nil
	}
	return sess, &row.M, nil
}

// readChildren fills in sess's line items, fees and refunds in one statement.
func (s *Store) readChildren(ctx context.Context, tx *sqlx.Tx, sess *Session) error {
	stmt, err := s.preparedIn(ctx, tx, readChildrenSQL)
	if err != nil {
		return fmt.Errorf("store: load children: %w", mapErr(err))
	}
	var rows []childRow
	if err := stmt.SelectContext(ctx, &rows, sess.ID, sess.ID, sess.ID); err != nil {
		return fmt.Errorf("store: load children: %w", mapErr(err))
	}
	for _, r := range rows {
		switch r.Kind {
		case "i":
			li := r.LineItem
			li.SessionID = sess.ID
			sess.LineItems = append(sess.LineItems, li)
		case "a":
			sess.Adjustments = append(sess.Adjustments, Adjustment{SessionID: sess.ID, Position: r.Position,
				Kind: r.AdjKind, Label: r.Label, Amount: r.Amount})
		case "r":
			sess.Refunds = append(sess.Refunds, Refund{ID: r.ID, SessionID: sess.ID, Amount: r.Amount,
				Currency: r.Currency, Status: r.Status, Reason: r.Reason, FailureReason: r.FailureReason,
				Created: r.Created, Updated: r.Updated})
		}
	}
	return nil
}

// stmtCache holds the statements prepared on the pool, by query text
// (*sqlx.Stmt values). database/sql prepares each on a connection the first
// time it runs there and keeps it for the connection's life.
type stmtCache struct {
	m       sync.Map
	warming sync.Map // query -> struct{}: being prepared on the pool in the background
}

// preparedIn returns query prepared on the pool, bound to tx when tx is not
// nil (a pool statement cannot run on a transaction's connection). A
// statement the pool has not prepared yet is prepared on tx's connection
// for this once, and on the pool in the background: preparing it on the
// pool now would need a second connection, which a pool whose connections
// are all held by transactions waiting for one could never give.
func (s *Store) preparedIn(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	if tx == nil {
		return s.prepared(ctx, query)
	}
	if st, ok := s.stmts.m.Load(query); ok {
		return tx.StmtxContext(ctx, st.(*sqlx.Stmt)), nil
	}
	if _, busy := s.stmts.warming.LoadOrStore(query, struct{}{}); !busy {
		go func() {
			defer s.stmts.warming.Delete(query)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.prepared(ctx, query) // a failure leaves it for the next call
		}()
	}
	return tx.PreparexContext(ctx, tx.Rebind(query))
}

// prepared returns query (written with ? placeholders) prepared on the pool.
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := s.stmts.m.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := s.db.PreparexContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.m.LoadOrStore(query, st); loaded {
		st.Close() // another request prepared it meanwhile
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}
