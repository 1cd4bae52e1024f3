package store_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// answerJSON is an Answer that renders the id, as the API's would.
func answerJSON(sess *store.Session, created bool) (int, string, error) {
	if !created {
		return 200, `{"id":"` + sess.ID + `","again":true}`, nil
	}
	return 200, `{"id":"` + sess.ID + `"}`, nil
}

func keyed(key string) *store.SessionParams {
	p := validParams()
	p.IdempotencyKey = key
	return p
}

func TestKeyedCreateIsOneCommit(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		var commits, begins atomic.Int64
		s.ObserveQueries(func(op store.Op, _ time.Duration) {
			switch op {
			case store.OpCommit:
				commits.Add(1)
			case store.OpBegin:
				begins.Add(1)
			}
		})
		var created *store.Session
		prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("once"), "h1",
			func(sess *store.Session, isNew bool) (int, string, error) {
				created = sess
				return answerJSON(sess, isNew)
			})
		if err != nil || prior != nil {
			t.Fatalf("create: %v %v", prior, err)
		}
		if c, b := commits.Load(), begins.Load(); c != 1 || b != 1 {
			t.Fatalf("a keyed create took %d transactions and %d commits, want 1 and 1", b, c)
		}
		if got := getSession(t, s, created.ID); got.IdempotencyKey != "once" || len(got.LineItems) != 1 {
			t.Fatalf("stored session: %+v", got)
		}
		// The answer was recorded with the session: the same request replays
		// it and creates nothing, another one is refused.
		prior, err = s.CreateSessionIdempotent(t.Context(), m, false, keyed("once"), "h1", answerJSON)
		if err != nil || prior == nil || prior.StatusCode != 200 || prior.Response != `{"id":"`+created.ID+`"}` {
			t.Fatalf("replay: %+v %v", prior, err)
		}
		if _, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("once"), "h2", answerJSON); !errors.Is(err, store.ErrIdempotencyMismatch) {
			t.Fatalf("another request with the key: err = %v, want a mismatch", err)
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 1 {
			t.Fatalf("%d sessions stored, want 1", n)
		}
	})
}

func TestKeyedCreateThatFailsLeavesNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		boom := errors.New("render failed")
		_, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("k"), "h",
			func(*store.Session, bool) (int, string, error) { return 0, "", boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the answer's error", err)
		}
		bad := keyed("k")
		bad.Currency = "zzz"
		if _, err := s.CreateSessionIdempotent(t.Context(), m, false, bad, "h", answerJSON); store.ErrorCode(err) != store.EINVALID {
			t.Fatalf("invalid params: err = %v, want EINVALID", err)
		}
		if n := countRows(t, s, "checkout_sessions", "") + countRows(t, s, "idempotency_keys", ""); n != 0 {
			t.Fatalf("%d rows left behind", n)
		}
		// The key is free: the request may be retried with it.
		if prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("k"), "h", answerJSON); err != nil || prior != nil {
			t.Fatalf("retry: %v %v", prior, err)
		}
	})
}

func TestKeyedCreateFindsTheSessionOfAnUnrecordedKey(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		// A claim whose process died after creating the session (three
		// commits, as before): the session is there, the answer is not.
		if _, err := s.BeginIdempotent(t.Context(), m.ID, false, "k", "h"); err != nil {
			t.Fatal(err)
		}
		first := createSession(t, s, m, false, keyed("k"))
		c.Advance(store.IdempotencyClaimTimeout)
		prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("k"), "h", answerJSON)
		if err != nil || prior != nil {
			t.Fatalf("retry: %v %v", prior, err)
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 1 {
			t.Fatalf("%d sessions, want the first one only", n)
		}
		rec, err := s.BeginIdempotent(t.Context(), m.ID, false, "k", "h")
		if err != nil || rec == nil || rec.Response != `{"id":"`+first.ID+`","again":true}` {
			t.Fatalf("recorded answer: %+v %v", rec, err)
		}
	})
}

func TestConcurrentKeyedCreatesMakeOneSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		var created, replayed atomic.Int64
		for _, err := range race(20, func() error {
			prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("k"), "h", answerJSON)
			switch {
			case err != nil:
				return err
			case prior == nil:
				created.Add(1)
			default:
				replayed.Add(1)
			}
			return nil
		}) {
			if err != nil && !errors.Is(err, store.ErrIdempotencyInProgress) {
				t.Errorf("err = %v, want none or in progress", err)
			}
		}
		if created.Load() != 1 || countRows(t, s, "checkout_sessions", "") != 1 || countRows(t, s, "idempotency_keys", "") != 1 {
			t.Fatalf("%d created (%d replayed), %d sessions stored, want 1", created.Load(), replayed.Load(),
				countRows(t, s, "checkout_sessions", ""))
		}
	})
}

// The lookup of a session by its idempotency key must use the index on
// (merchant_id, livemode, idempotency_key), not scan the merchant's
// sessions: asked of each engine with the exact query CreateSession runs.
func TestIdempotencyKeyLookupUsesTheIndex(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for range 3 {
			createSession(t, s, m, false, validParams())
		}
		for _, q := range []struct {
			name, sql string
			args      []any
			want      []string // indexes the plan must go through
		}{
			{"the older session's lookup", store.SessionByIdempotencyKeySQL, []any{m.ID, false, "k", int64(0)},
				[]string{"checkout_sessions_idempotency_key"}},
			{"the fresh key's check", store.KeyUnusedSQL, []any{m.ID, false, "k", m.ID, false, "k"},
				[]string{"checkout_sessions_idempotency_key", map[string]string{store.SQLite: "sqlite_autoindex_idempotency_keys_1",
					store.Postgres: "idempotency_keys_pkey"}[s.Engine()]}},
		} {
			text := queryPlan(t, s, q.sql, q.args)
			// The newest match is the index range's end: no sort either.
			if strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort") ||
				strings.Contains(text, "SCAN checkout_sessions") || strings.Contains(text, "SCAN idempotency_keys") {
				t.Fatalf("%s sorts or scans:\n%s", q.name, text)
			}
			for _, index := range q.want {
				if !strings.Contains(text, index) {
					t.Fatalf("%s does not go through %s:\n%s", q.name, index, text)
				}
			}
			t.Logf("%s:\n%s", q.name, text)
		}
	})
}

// queryPlan is how s's engine would run query: on PostgreSQL with
// sequential scans off, since a table this small is read whole whatever
// the indexes, and what matters is that an index can serve the query.
func queryPlan(t *testing.T, s *store.Store, query string, args []any) string {
	t.Helper()
	var plan []string
	db := s.DB()
	if s.Engine() == store.SQLite {
		rows, err := db.Queryx(db.Rebind("EXPLAIN QUERY PLAN "+query), args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		return strings.Join(plan, "\n")
	}
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SET LOCAL enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Select(&plan, tx.Rebind("EXPLAIN "+query), args...); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
