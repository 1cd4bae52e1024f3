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
	if fresh, err := s.keyUnused(ctx, sess); err != nil {
		return nil, fmt.Errorf("store: create session: %w", err)
	} else if fresh {
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			if err := s.insertSession(ctx, tx, sess); err != nil {
				return err
			}
			return s.recordAnswer(ctx, tx, sess, rec)
		})
		if ErrorCode(err) != ECONFLICT {
			if err != nil {
				return nil, fmt.Errorf("store: create session: %w", err)
			}
			return nil, nil
		}
		// A duplicate committed since the look: answer as it was answered.
	}
	var prior *Idempotency
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if prior, err = s.priorAnswer(ctx, tx, m.ID, livemode, sess.IdempotencyKey, rec.Created); err != nil || prior != nil {
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
	return s.recordAnswer(ctx, tx, sess, rec)
}

// recordAnswer records rec in tx as the answer to sess's idempotency key.
// A record of the key committed meanwhile makes it fail with ECONFLICT.
func (s *Store) recordAnswer(ctx context.Context, tx *sqlx.Tx, sess *Session, rec *Idempotency) error {
	stmt, err := s.preparedIn(ctx, tx, `INSERT INTO idempotency_keys (merchant_id, livemode, key,
		request_hash, status_code, response, created) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err == nil {
		_, err = stmt.ExecContext(ctx, sess.MerchantID, sess.Livemode, sess.IdempotencyKey, rec.RequestHash,
			rec.StatusCode, rec.Response, rec.Created)
	}
	return err
}

// keyUnusedSQL asks, in one statement, whether anything was ever made with
// a merchant's idempotency key: a record of it, or a session (one made
// before keys were recorded with their session).
const keyUnusedSQL = `SELECT NOT (EXISTS (SELECT 1 FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?)
	OR EXISTS (SELECT 1 FROM checkout_sessions
		WHERE merchant_id = ? AND livemode = ? AND idempotency_key = ? AND idempotency_key <> ''))`

// keyUnused reports whether nothing was ever made with sess's idempotency
// key, read outside any transaction: the common case, a fresh key, then
// needs no look inside the write transaction (on SQLite, no time holding
// the write lock), where the key's primary key refuses a duplicate that
// committed since. Anything found takes the careful path, which reads it
// again in the transaction.
func (s *Store) keyUnused(ctx context.Context, sess *Session) (bool, error) {
	stmt, err := s.prepared(ctx, keyUnusedSQL)
	if err != nil {
		return false, mapErr(err)
	}
	var unused bool
	k := sess.IdempotencyKey
	if err := stmt.GetContext(ctx, &unused, sess.MerchantID, sess.Livemode, k, sess.MerchantID, sess.Livemode, k); err != nil {
		return false, mapErr(err)
	}
	return unused, nil
}
