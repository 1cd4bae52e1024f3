package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Answer renders the API's answer to a session: the status and body to
// replay to every later request with the same idempotency key. For the new
// session (created) it runs before the transaction, so that rendering holds
// no lock: the session's rows are not stored yet, so the answer must be made
// from sess as it is, without reading the database. Otherwise, in the
// transaction, sess is an older session made with the key, and its answer
// replaces the first.
type Answer func(sess *Session, created bool) (status int, body string, err error)

// CreateSessionIdempotent is CreateSession for an API request carrying an
// Idempotency-Key (p.IdempotencyKey) whose request hashes to hash, with the
// key's whole life in one transaction, so one commit: answer renders the
// response, then the key is looked up, the session stored and the response
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
	status, body, err := answer(sess, true)
	if err != nil {
		return nil, err
	}
	rec := &Idempotency{RequestHash: hash, StatusCode: status, Response: body, Created: sess.Created}
	var prior *Idempotency
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if prior, err = priorAnswer(ctx, tx, m.ID, livemode, sess.IdempotencyKey, rec.Created); err != nil || prior != nil {
			return err
		}
		return s.createAndRecord(ctx, tx, sess, rec, answer)
	})
	if err != nil && ErrorCode(err) != ECONFLICT {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	return judgePrior(prior, hash, err)
}

// createAndRecord stores sess in tx (or finds the session made with its key
// before, as CreateSession does, and has answer render that one) and
// records rec as the key's answer.
func (s *Store) createAndRecord(ctx context.Context, tx *sqlx.Tx, sess *Session, rec *Idempotency, answer Answer) error {
	existing, err := s.insertUnlessKeyed(ctx, tx, sess)
	if err != nil {
		return err
	}
	if existing != "" {
		older, err := s.getSessionIn(ctx, tx, existing)
		if err != nil {
			return err
		}
		if rec.StatusCode, rec.Response, err = answer(older, false); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idempotency_keys (merchant_id, livemode, key,
		request_hash, status_code, response, created) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		sess.MerchantID, sess.Livemode, sess.IdempotencyKey, rec.RequestHash, rec.StatusCode, rec.Response, rec.Created)
	return err
}
