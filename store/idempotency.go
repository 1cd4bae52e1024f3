package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// IdempotencyTTL is how long a key is remembered, as Stripe does.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyClaimTimeout is how long an unfinished claim holds its key:
// well past the request deadline, so only a claim whose process died expires.
const IdempotencyClaimTimeout = time.Minute

// Idempotency is the stored outcome of the first request made with a key.
// StatusCode 0 means that request is still running; answerFromSession, that
// the answer is the session the key made, rendered when it is asked for.
type Idempotency struct {
	RequestHash string `db:"request_hash"`
	StatusCode  int    `db:"status_code"`
	Response    string `db:"response"`
	Created     int64  `db:"created"`
	SessionID   string `db:"session_id"` // the session the key created, if it created one
}

// answerFromSession is the status of a record whose answer is its session,
// to any request with the key: a session keyed by CreateSession, or by an
// older version that died before it recorded the answer (migration 0011).
const answerFromSession = -1

// ErrIdempotencyMismatch: the key was used before with a different request.
var ErrIdempotencyMismatch = &Error{Code: EINVALID, Param: "Idempotency-Key",
	Message: "Keys for idempotent requests can only be used with the same parameters they were first used with."}

// ErrIdempotencyInProgress: the first request with this key is still running.
var ErrIdempotencyInProgress = &Error{Code: ECONFLICT,
	Message: "There is currently another in-progress request using this Idempotency-Key; retry later."}

// BeginIdempotent claims key for a request whose body hashes to hash. When the
// key is new it returns (nil, nil) and the caller must Finish or Abandon it.
// When the same request was already answered it returns the stored answer to
// replay. The claim is a primary-key insert, so of concurrent duplicates
// exactly one proceeds.
func (s *Store) BeginIdempotent(ctx context.Context, merchantID string, livemode bool, key, hash string) (*Idempotency, error) {
	now := s.now().Unix()
	var prior *Idempotency
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if prior, err = s.priorAnswer(ctx, tx, merchantID, livemode, key, now); err != nil || prior != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idempotency_keys (merchant_id, livemode, key,
			request_hash, created) VALUES (?, ?, ?, ?, ?)`), merchantID, livemode, key, hash, now)
		return err
	})
	return judgePrior(prior, hash, err)
}

const priorAnswerSQL = `SELECT request_hash, status_code, response, created, session_id
	FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?`

// priorAnswer reads, in tx, the record of key that still holds: the first
// request's answer or its unfinished claim; nil when the key is free. A
// record past its 24 hours, or a claim whose request never finished, is
// deleted on the way.
func (s *Store) priorAnswer(ctx context.Context, tx *sqlx.Tx, merchantID string, livemode bool, key string, now int64) (*Idempotency, error) {
	var rec Idempotency
	stmt, err := s.preparedIn(ctx, tx, priorAnswerSQL)
	if err == nil {
		err = mapErr(stmt.GetContext(ctx, &rec, merchantID, livemode, key))
	}
	switch {
	case IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	expired := rec.Created <= now-int64(IdempotencyTTL/time.Second)
	// A claim whose request never finished (its process died) would
	// answer "in progress" for a day; past the longest a request can
	// run, it is abandoned and may be claimed again.
	abandoned := rec.StatusCode == 0 && rec.Created <= now-int64(IdempotencyClaimTimeout/time.Second)
	if !expired && !abandoned {
		return &rec, nil
	}
	// Forget it and claim afresh, but only if it is still the record
	// we read: on PostgreSQL a concurrent twin may have replaced it
	// with its own fresh claim since, and deleting that would let
	// both requests proceed.
	_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM idempotency_keys
		WHERE merchant_id = ? AND livemode = ? AND key = ? AND created = ? AND status_code = ?`),
		merchantID, livemode, key, rec.Created, rec.StatusCode)
	return nil, err
}

// judgePrior turns what a claim found into the caller's answer: (nil, nil)
// to proceed, the answer to replay, or the error to give instead.
func judgePrior(prior *Idempotency, hash string, err error) (*Idempotency, error) {
	if ErrorCode(err) == ECONFLICT {
		// A concurrent duplicate claimed it between our read and insert.
		return nil, ErrIdempotencyInProgress
	}
	if err != nil {
		return nil, fmt.Errorf("store: idempotency key: %w", err)
	}
	switch {
	case prior == nil:
		return nil, nil
	case prior.RequestHash != hash, prior.StatusCode == answerFromSession:
		// A session's key reused for another request.
		return nil, ErrIdempotencyMismatch
	case prior.StatusCode == 0:
		return nil, ErrIdempotencyInProgress
	}
	return prior, nil
}

// FinishIdempotent stores the answer to replay for key.
func (s *Store) FinishIdempotent(ctx context.Context, merchantID string, livemode bool, key string, status int, body string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys SET status_code = ?, response = ?
		WHERE merchant_id = ? AND livemode = ? AND key = ?`), status, body, merchantID, livemode, key)
	if err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", mapErr(err))
	}
	return nil
}

// AbandonIdempotent releases a key whose request failed in a way that must not
// be replayed (a server error): the client may retry with the same key.
func (s *Store) AbandonIdempotent(ctx context.Context, merchantID string, livemode bool, key string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_keys
		WHERE merchant_id = ? AND livemode = ? AND key = ?`), merchantID, livemode, key)
	if err != nil {
		return fmt.Errorf("store: abandon idempotency key: %w", mapErr(err))
	}
	return nil
}

// pruneSQL deletes the records created before $1 (now is $2). On SQLite,
// which keeps no index on created (a page more for every keyed create), it
// walks the records in the order they were written, from the oldest to the
// first that is still young: a record written out of order waits for a
// later prune, and priorAnswer never trusts a record past its 24 hours
// anyway. A record dated after now (written while the clock ran ahead) is
// not where the walk stops, or it would hold up every prune until then.
var pruneSQL = map[string]string{
	Postgres: `DELETE FROM idempotency_keys WHERE created <= $1`,
	SQLite: `DELETE FROM idempotency_keys WHERE created <= ?1 AND rowid < coalesce(
		(SELECT rowid FROM idempotency_keys WHERE created > ?1 AND created <= ?2 ORDER BY rowid LIMIT 1),
		(SELECT max(rowid) + 1 FROM idempotency_keys))`,
}

// PruneIdempotency deletes keys older than IdempotencyTTL.
func (s *Store) PruneIdempotency(ctx context.Context) (int64, error) {
	now := s.now()
	args := []any{now.Add(-IdempotencyTTL).Unix()}
	if s.engine == SQLite {
		args = append(args, now.Unix())
	}
	res, err := s.db.ExecContext(ctx, pruneSQL[s.engine], args...)
	if err != nil {
		return 0, fmt.Errorf("store: prune idempotency keys: %w", mapErr(err))
	}
	return res.RowsAffected()
}
