package store

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

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
// response, then the session is stored and the response recorded with the
// key, all or nothing.
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
	rec := &Idempotency{RequestHash: hash, StatusCode: status, Response: body, Created: sess.Created, SessionID: sess.ID}
	prior, err := s.createKeyed(ctx, sess, rec, answer)
	if err != nil && ErrorCode(err) != ECONFLICT {
		return nil, err
	}
	return judgePrior(prior, hash, err)
}

// createKeyed stores sess and rec, its key's record, in one transaction;
// when the key was used before, it returns the key's record instead. A
// record whose answer is its session (answerFromSession) is answered by
// answer, if there is one, and then recorded as this request's: nil is
// returned, as for a create.
//
// The common case, a fresh key, is one transaction that looks nothing up:
// the record's primary key refuses a key used before (ECONFLICT), and only
// then is the record read, in a second transaction. That one may meet a
// twin request's commit in turn (both found the key forgotten, or both
// adopted its session): it looks once more, and finds the twin's record.
func (s *Store) createKeyed(ctx context.Context, sess *Session, rec *Idempotency, answer Answer) (*Idempotency, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error { return s.insertKeyedSession(ctx, tx, sess, rec) })
	for attempt := 0; ErrorCode(err) == ECONFLICT && attempt < 2; attempt++ {
		var prior *Idempotency
		err = s.inTx(ctx, func(tx *sqlx.Tx) (err error) {
			prior, err = s.keyedAgain(ctx, tx, sess, rec, answer)
			return err
		})
		if err == nil {
			return prior, nil
		}
	}
	if err != nil && ErrorCode(err) != ECONFLICT {
		return nil, fmt.Errorf("store: create session: %w", err)
	}
	return nil, err
}

// keyedAgain is createKeyed's look at a key its insert found used, in tx:
// the key's record, or nil once sess is stored after all (the record was
// forgotten since: past its 24 hours, or abandoned) or the record's session
// answered and adopted.
func (s *Store) keyedAgain(ctx context.Context, tx *sqlx.Tx, sess *Session, rec *Idempotency, answer Answer) (*Idempotency, error) {
	prior, err := s.priorAnswer(ctx, tx, sess.MerchantID, sess.Livemode, sess.IdempotencyKey, rec.Created)
	switch {
	case err != nil:
		return nil, err
	case prior == nil:
		return nil, s.insertKeyedSession(ctx, tx, sess, rec)
	case prior.StatusCode == answerFromSession && answer != nil:
		return nil, s.adoptSessionRecord(ctx, tx, sess, prior, rec, answer)
	}
	return prior, nil
}

// adoptSessionRecord has answer render the session of prior, a record whose
// answer is its session, and records that answer to rec's request. A twin
// request that adopted it first makes it fail with ECONFLICT.
func (s *Store) adoptSessionRecord(ctx context.Context, tx *sqlx.Tx, sess *Session, prior, rec *Idempotency, answer Answer) error {
	older, err := s.getSessionIn(ctx, tx, prior.SessionID)
	if err != nil {
		return err
	}
	status, body, err := answer(older, false)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE idempotency_keys SET request_hash = ?, status_code = ?, response = ?
		WHERE merchant_id = ? AND livemode = ? AND key = ? AND status_code = ?`),
		rec.RequestHash, status, body, sess.MerchantID, sess.Livemode, sess.IdempotencyKey, answerFromSession)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return cmp.Or(err, error(errAdoptedMeanwhile))
	}
	return nil
}

var errAdoptedMeanwhile = &Error{Code: ECONFLICT, Message: "the key's session was answered meanwhile"}

// insertKeyedSession stores sess and its key's record rec in tx. A record
// of the key committed meanwhile makes it fail with ECONFLICT.
func (s *Store) insertKeyedSession(ctx context.Context, tx *sqlx.Tx, sess *Session, rec *Idempotency) error {
	if s.engine == Postgres {
		// One statement for both rows: a round trip is most of what a
		// statement costs on PostgreSQL.
		return s.insertSessionWith(ctx, tx, sess, recordCTE, recordArgs(sess, rec)...)
	}
	stmt, err := s.preparedIn(ctx, tx, insertRecordSQL)
	if err == nil {
		_, err = stmt.ExecContext(ctx, recordArgs(sess, rec)...)
	}
	if err != nil {
		return err
	}
	return s.insertSession(ctx, tx, sess)
}

const recordColumns = `merchant_id, livemode, key, request_hash, status_code, response, created, session_id`

var insertRecordSQL = `INSERT INTO idempotency_keys (` + recordColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// recordCTE writes the record in the session's INSERT on PostgreSQL, with
// parameters from $first on. first is the same for every create (the
// session's INSERT binds a fixed number), so each text is built once.
func recordCTE(first int) string {
	if q, ok := recordCTEs.Load(first); ok {
		return q.(string)
	}
	params := make([]string, len(strings.Split(recordColumns, ",")))
	for i := range params {
		params[i] = "$" + strconv.Itoa(first+i)
	}
	q := `WITH record AS (INSERT INTO idempotency_keys (` + recordColumns + `) VALUES (` + strings.Join(params, ", ") + `)) `
	recordCTEs.Store(first, q)
	return q
}

var recordCTEs sync.Map // first parameter → recordCTE's text

func recordArgs(sess *Session, rec *Idempotency) []any {
	return []any{sess.MerchantID, sess.Livemode, sess.IdempotencyKey, rec.RequestHash, rec.StatusCode,
		rec.Response, rec.Created, rec.SessionID}
}
