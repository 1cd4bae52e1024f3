package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Answer renders the API's answer to a session: the status and body to
// replay to every later request with the same idempotency key. It runs in
// the transaction: when created, the session's rows are not committed yet,
// so the answer must be made from sess as it is, without reading the
// database; otherwise sess is an older session made with the key.
type Answer func(sess *Session, created bool) (status int, body string, err error)

// CreateSessionIdempotent is CreateSession for an API request carrying an
// Idempotency-Key (p.IdempotencyKey) whose request hashes to hash, with the
// key's whole life in one transaction, so one commit: the key is looked
// up, the session stored, answer renders the response and the response is
// recorded with the key, all or nothing. BeginIdempotent, CreateSession
// and FinishIdempotent took three.
//
// It returns the answer to replay when the key was used before, with
// BeginIdempotent's errors (ErrIdempotencyMismatch, ErrIdempotencyInProgress);
// nil when it created the session and answer has rendered it. Of concurrent
// duplicates exactly one creates: the others wait for the key's row (on
// PostgreSQL, its primary key; on SQLite, the write lock) and are refused as
// in progress, or replay once it is committed.
func (s *Store) CreateSessionIdempotent(ctx context.Context, m *Merchant, livemode bool, p *SessionParams, hash string, answer Answer) (*Idempotency, error) {
	sess, err := s.buildSession(ctx, m, livemode, p)
	if err != nil {
		return nil, err
	}
	key, now := sess.IdempotencyKey, sess.Created
	var prior *Idempotency
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if prior, err = priorAnswer(ctx, tx, m.ID, livemode, key, now); err != nil || prior != nil {
			return err
		}
		return s.createAndRecord(ctx, tx, sess, hash, answer)
	})
	if err != nil && ErrorCode(err) != ECONFLICT {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	return judgePrior(prior, hash, err)
}

// createAndRecord stores sess in tx (or finds the session made with its key
// before, as CreateSession does), renders the answer and records it.
func (s *Store) createAndRecord(ctx context.Context, tx *sqlx.Tx, sess *Session, hash string, answer Answer) error {
	// The key's record is the request's, even when the session is older.
	merchantID, livemode, key, now := sess.MerchantID, sess.Livemode, sess.IdempotencyKey, sess.Created
	existing, err := s.insertUnlessKeyed(ctx, tx, sess)
	if err != nil {
		return err
	}
	if existing != "" {
		if sess, err = s.getSessionIn(ctx, tx, existing); err != nil {
			return err
		}
	}
	status, body, err := answer(sess, existing == "")
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idempotency_keys (merchant_id, livemode, key,
		request_hash, status_code, response, created) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		merchantID, livemode, key, hash, status, body, now)
	return err
}
