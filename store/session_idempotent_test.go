package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// Sessions keyed by an older version that died between committing the
// session and its answer (no record, or an unfinished claim) get a record
// from migration 0011 whose answer is the session: a retry with the key
// gets that session, rendered for it, and the answer is kept for the next.
func TestKeyedCreateFindsTheSessionOfAnUnrecordedKey(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		unrecorded := createSession(t, s, m, false, keyed("unrecorded"))
		claimed := createSession(t, s, m, false, keyed("claimed"))
		db := s.DB()
		db.MustExec(db.Rebind(`DELETE FROM idempotency_keys WHERE key = ?`), "unrecorded")
		db.MustExec(db.Rebind(`UPDATE idempotency_keys SET status_code = 0, request_hash = ?, session_id = '' WHERE key = ?`),
			"h", "claimed")
		db.MustExec(migrationStatement(t, s.Engine(), "0011_idempotency_records_hold_their_session.sql", "INSERT INTO idempotency_keys"))

		for key, first := range map[string]*store.Session{"unrecorded": unrecorded, "claimed": claimed} {
			prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed(key), "h", answerJSON)
			if err != nil || prior != nil {
				t.Fatalf("%s: retry: %v %v", key, prior, err)
			}
			rec, err := s.BeginIdempotent(t.Context(), m.ID, false, key, "h")
			if err != nil || rec == nil || rec.Response != `{"id":"`+first.ID+`","again":true}` {
				t.Fatalf("%s: recorded answer: %+v %v", key, rec, err)
			}
			if _, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed(key), "h2", answerJSON); !errors.Is(err, store.ErrIdempotencyMismatch) {
				t.Fatalf("%s: another request with the key: err = %v, want a mismatch", key, err)
			}
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 2 {
			t.Fatalf("%d sessions, want the first two only", n)
		}
	})
}

// Retries of a key whose answer is its session, made at once with other
// requests: exactly one adopts the record and answers; the others then
// see its answer (a mismatch, their requests differing), never a second
// adoption that would overwrite the first's.
func TestConcurrentRetriesAdoptAKeysSessionOnce(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		createSession(t, s, m, false, keyed("k")) // its record answers with the session
		var n atomic.Int64
		var adopted atomic.Value
		for _, err := range race(10, func() error {
			hash := fmt.Sprintf("h%d", n.Add(1))
			// Rendering the session takes a while: the twins all read the
			// record before the first adopts it.
			slowly := func(sess *store.Session, created bool) (int, string, error) {
				if !created {
					time.Sleep(50 * time.Millisecond)
				}
				return answerJSON(sess, created)
			}
			prior, err := s.CreateSessionIdempotent(t.Context(), m, false, keyed("k"), hash, slowly)
			if err == nil && prior == nil {
				if adopted.Swap(hash) != nil {
					return errors.New("a second request adopted the key's session")
				}
			}
			return err
		}) {
			if err != nil && !errors.Is(err, store.ErrIdempotencyMismatch) && !errors.Is(err, store.ErrIdempotencyInProgress) {
				t.Errorf("err = %v, want none, a mismatch or in progress", err)
			}
		}
		winner, _ := adopted.Load().(string)
		if winner == "" {
			t.Fatal("no request adopted the key's session")
		}
		if rec, err := s.BeginIdempotent(t.Context(), m.ID, false, "k", winner); err != nil || rec == nil || !strings.Contains(rec.Response, `"again":true`) {
			t.Fatalf("the record after the adoption by %s: %+v %v", winner, rec, err)
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 1 {
			t.Fatalf("%d sessions, want 1", n)
		}
	})
}

// migrationStatement is the statement of a migration file that begins with
// prefix, to run again on a database that is migrated already.
func migrationStatement(t *testing.T, engine, file, prefix string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("migrations", engine, file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	start := strings.Index(text, prefix)
	if start < 0 {
		t.Fatalf("%s has no statement %q", file, prefix)
	}
	end := strings.Index(text[start:], ";\n")
	return text[start : start+end]
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

// A key is looked up through its record's primary key, and old records
// are pruned without reading the young ones: asked of each engine with the
// exact queries the store runs.
func TestIdempotencyKeyLookupUsesTheIndex(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for range 3 {
			createSession(t, s, m, false, validParams())
		}
		sqlite := s.Engine() == store.SQLite
		for _, q := range []struct {
			name, sql string
			args      []any
			want      string // the index the plan must go through
		}{
			{"the key's record", store.PriorAnswerSQL, []any{m.ID, false, "k"},
				map[bool]string{true: "sqlite_autoindex_idempotency_keys_1", false: "idempotency_keys_pkey"}[sqlite]},
			// SQLite walks the records in the order they were written, from
			// the oldest, and stops at the first young one.
			{"the prune", store.PruneSQL[s.Engine()], map[bool][]any{true: {int64(0), int64(1)}, false: {int64(0)}}[sqlite],
				map[bool]string{true: "USING INTEGER PRIMARY KEY (rowid<?)", false: "idempotency_keys_created"}[sqlite]},
		} {
			text := queryPlan(t, s, q.sql, q.args)
			scan := strings.Contains(text, "SCAN idempotency_keys") && !(sqlite && q.name == "the prune")
			if strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort") || scan {
				t.Fatalf("%s sorts or scans:\n%s", q.name, text)
			}
			if !strings.Contains(text, q.want) {
				t.Fatalf("%s does not go through %s:\n%s", q.name, q.want, text)
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
