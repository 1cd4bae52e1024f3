package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// PostgreSQL faults, on one cluster of the test's own (starting one takes
// seconds): frozen, stopped, and back.
func TestPostgresFaults(t *testing.T) {
	cl := storetest.NewCluster(t)
	t.Run("frozen: every call ends with its context", func(t *testing.T) { callsEndWhenFrozen(t, cl) })
	t.Run("frozen before COMMIT or ROLLBACK: it ends with its context", func(t *testing.T) { txEndsWhenFrozen(t, cl) })
	t.Run("up: a call past its deadline stops on the server too", func(t *testing.T) { callsPastDeadlineStop(t, cl) })
	t.Run("stopped: unavailable, and recovers by itself", func(t *testing.T) { stoppedRecovers(t, cl) })
	t.Run("back: the hub resumes soon after the database", func(t *testing.T) { hubResumes(t, cl) })
}

// A call on a server that answers nothing must end with its context: lib/pq
// alone would wait on the frozen server for as long as it stays frozen.
func callsEndWhenFrozen(t *testing.T, cl *storetest.Cluster) {
	for _, tc := range []struct{ name, url string }{{"tcp", cl.URL()}, {"unix socket", cl.SocketURL()}} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t, tc.url)
			m, _ := newMerchant(t, s, nil)
			sess := createSession(t, s, m, false, validParams())
			hub := store.NewHub(s, nil)
			if err := hub.Listen(t.Context()); err != nil {
				t.Fatal(err)
			}
			const deadline = 300 * time.Millisecond
			calls := map[string]func(ctx context.Context) error{
				"read":  func(ctx context.Context) error { _, err := s.Session(ctx, sess.ID); return err },
				"page":  func(ctx context.Context) error { _, _, err := s.SessionPage(ctx, sess.ID); return err },
				"state": func(ctx context.Context) error { _, err := s.SessionState(ctx, sess.ID); return err },
				"list": func(ctx context.Context) error {
					_, _, err := s.ListSessions(ctx, m.ID, false, store.ListParams{Limit: 10})
					return err
				},
				"create": func(ctx context.Context) error { _, err := s.CreateSession(ctx, m, false, validParams()); return err },
				"transition": func(ctx context.Context) error {
					_, err := s.Transition(ctx, sess.ID, store.Transition{Action: store.ActionProcess, Source: "test"})
					return err
				},
				"ping":        s.Ping,
				"probe write": s.ProbeWrite,
				"open":        func(ctx context.Context) error { _, err := store.Open(ctx, tc.url); return err },
			}
			// The reads run once first, so that their prepared statements
			// are on the pool's connection when it freezes: lib/pq cancels a
			// prepared statement's run otherwise than a query's, and waits
			// for its cancel request to be answered.
			for _, name := range []string{"read", "page", "state"} {
				if err := calls[name](t.Context()); err != nil {
					t.Fatalf("%s before the freeze: %v", name, err)
				}
			}
			cl.Freeze()
			defer cl.Thaw()

			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				slowest time.Duration
			)
			errs := make(chan error, 40*len(calls)+3)
			run := func(name string) {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				err := calls[name](ctx)
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
				switch {
				case took > deadline+time.Second:
					errs <- fmt.Errorf("%s took %v with a %v deadline", name, took, deadline)
				case store.ErrorCode(err) != store.EUNAVAILABLE:
					errs <- fmt.Errorf("%s on a frozen server: %v (code %q), want %s", name, err, store.ErrorCode(err), store.EUNAVAILABLE)
				}
			}
			// Alone, the first read takes the pool's idle connection, with
			// its prepared statements.
			for _, name := range []string{"read", "page", "state"} {
				run(name)
			}
			// More callers than the pool has connections: some wait for a
			// connection, some open new ones against the frozen server.
			for range 40 {
				for name := range calls {
					wg.Go(func() { run(name) })
				}
			}
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			select {
			case <-finished:
			case <-time.After(deadline + 5*time.Second):
				cl.Thaw() // lets the pinned calls end, so that the test can
				t.Fatalf("calls on a frozen server were still waiting %v after their deadline", 5*time.Second)
			}
			close(errs)
			t.Logf("%d calls on a frozen server with a %v deadline: the slowest took %v", 40*len(calls)+3, deadline, slowest)
			for err := range errs {
				t.Error(err)
			}
			// Shutting down is not held up by the frozen server either.
			start := time.Now()
			hub.Close()
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Hub.Close took %v on a frozen server", took)
			}

			cl.Thaw()
			waitFor(t, 10*time.Second, "the store works again after the thaw", func() bool {
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				_, err := s.Transition(ctx, sess.ID, store.Transition{Action: store.ActionProcess, Source: "test"})
				return err == nil || store.ErrorCode(err) == store.ESTATE
			})
		})
	}
}

// A server that freezes after a transaction's work, before its COMMIT (or
// its ROLLBACK) is answered, leaves the transaction's end to its context:
// lib/pq sends both without one of their own and watches the context the
// transaction began with, whose end cuts the connection (sessionDialer).
// This keeps that so.
func txEndsWhenFrozen(t *testing.T, cl *storetest.Cluster) {
	s, _ := newStore(t, cl.URL())
	m, _ := newMerchant(t, s, nil)
	const deadline = 300 * time.Millisecond
	for _, end := range []string{"commit", "rollback"} {
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		start := time.Now()
		err := s.InTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE merchants SET name = ? WHERE id = ?`), "Frozen", m.ID); err != nil {
				return err
			}
			cl.Freeze()
			if end == "rollback" {
				return errors.New("the work failed")
			}
			return nil
		})
		took := time.Since(start)
		cancel()
		cl.Thaw()
		if took > deadline+time.Second {
			t.Errorf("%s on a frozen server took %v with a %v deadline", end, took, deadline)
		}
		if end == "commit" && store.ErrorCode(err) != store.EUNAVAILABLE {
			t.Errorf("commit on a frozen server: %v (code %q), want %s", err, store.ErrorCode(err), store.EUNAVAILABLE)
		}
		t.Logf("%s on a frozen server with a %v deadline: %v after %v", end, deadline, err, took)
		waitFor(t, 10*time.Second, "the store works again after the thaw", func() bool {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err := s.Merchant(ctx, m.ID)
			return err == nil
		})
	}
}

// A call whose context ends on a server that is up is cancelled there too:
// the connection cut on the client's side does not stop a query the server
// is running, the cancel request does, and it is sent and not waited for.
func callsPastDeadlineStop(t *testing.T, cl *storetest.Cluster) {
	s, _ := newStore(t, cl.URL())
	stmt, err := s.DB().PreparexContext(t.Context(), `SELECT pg_sleep(60)`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	const deadline = 200 * time.Millisecond
	for name, call := range map[string]func(ctx context.Context) error{
		"query":    func(ctx context.Context) error { _, err := s.DB().ExecContext(ctx, `SELECT pg_sleep(60)`); return err },
		"prepared": func(ctx context.Context) error { _, err := stmt.ExecContext(ctx); return err },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if store.ErrorCode(err) != store.EUNAVAILABLE || took > deadline+500*time.Millisecond {
			t.Errorf("%s past its deadline: %v after %v, want unavailable after about %v", name, err, took, deadline)
		}
		waitFor(t, 5*time.Second, name+": the server stops running it", func() bool {
			var n int
			err := s.DB().GetContext(t.Context(), &n, `SELECT COUNT(*) FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'active' AND query = 'SELECT pg_sleep(60)'`)
			return err == nil && n == 0
		})
	}
}

// A stopped server is unavailable, for the pool's old connections and new
// ones alike, and the store recovers without a restart.
func stoppedRecovers(t *testing.T, cl *storetest.Cluster) {
	s, _ := newStore(t, cl.URL())
	m, _ := newMerchant(t, s, nil)
	sess := createSession(t, s, m, false, validParams())
	cl.Stop()
	for name, call := range map[string]func(ctx context.Context) error{
		"read":   func(ctx context.Context) error { _, err := s.Session(ctx, sess.ID); return err },
		"create": func(ctx context.Context) error { _, err := s.CreateSession(ctx, m, false, validParams()); return err },
		"ping":   s.Ping,
	} {
		for range 3 { // the pool's stale connections, then new ones
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			err := call(ctx)
			cancel()
			if store.ErrorCode(err) != store.EUNAVAILABLE {
				t.Fatalf("%s on a stopped server: %v (code %q), want %s", name, err, store.ErrorCode(err), store.EUNAVAILABLE)
			}
		}
	}
	cl.Start()
	waitFor(t, 10*time.Second, "reads work again after the restart", func() bool {
		_, err := s.Session(t.Context(), sess.ID)
		return err == nil
	})
}

// Bugs are not outages: an error the database gives for a wrong query is
// internal, not unavailable.
func TestUnavailableTellsOutagesFromBugs(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		_, err := s.DB().ExecContext(t.Context(), "SELECT no_such_column FROM checkout_sessions")
		if store.ErrorCode(err) != store.EINTERNAL {
			t.Errorf("a bad query: code %q (%v), want %s", store.ErrorCode(err), err, store.EINTERNAL)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Ping(ctx); store.ErrorCode(err) != store.EUNAVAILABLE {
			t.Errorf("a call whose context ended: code %q (%v), want %s", store.ErrorCode(err), err, store.EUNAVAILABLE)
		}
	})
	if store.ErrorCode(errors.New("boom")) != store.EINTERNAL {
		t.Error("a plain error is not internal")
	}
}

// The database file holds secrets and shoppers' data: only its owner may
// read it, and its WAL and shared-memory files alike.
func TestSQLiteFilesAreCreatedPrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // an existing, open directory
		t.Fatal(err)
	}
	path := filepath.Join(dir, "paypage.db")
	s, _ := newStore(t, "sqlite:"+path)
	m, _ := newMerchant(t, s, nil)
	createSession(t, s, m, false, validParams())
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), perm)
		}
	}
}

// A SQLite URL may carry pragmas (only those): max_page_count caps the
// database's size, and a write past it is an outage (the disk is full), not
// a bug, and leaves nothing half-written.
func TestSQLiteFullIsUnavailableAndWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paypage.db")
	s, _ := newStore(t, "sqlite:"+path)
	m, _ := newMerchant(t, s, nil)
	var pages int
	if err := s.DB().GetContext(t.Context(), &pages, "PRAGMA page_count"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := store.Open(t.Context(), "sqlite:"+path+"?_busy_timeout=1"); err == nil {
		t.Fatal("a sqlite URL parameter other than _pragma was accepted")
	}
	full, err := store.Open(t.Context(), fmt.Sprintf("sqlite:%s?_pragma=max_page_count(%d)", path, pages+8))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	full.Now = func() time.Time { return t0 }
	p := validParams()
	for i := range 50 {
		p.LineItems = append(p.LineItems, item(fmt.Sprintf("Item %d with a long name to fill pages faster", i), 1, 100))
	}
	var created int
	for {
		_, err := full.CreateSession(t.Context(), m, false, p)
		if err != nil {
			if code := store.ErrorCode(err); code != store.EUNAVAILABLE {
				t.Fatalf("a write to a full database: code %q (%v), want %s", code, err, store.EUNAVAILABLE)
			}
			break
		}
		if created++; created > 1000 {
			t.Fatal("the database never filled up")
		}
	}
	if err := full.ProbeWrite(t.Context()); store.ErrorCode(err) != store.EUNAVAILABLE {
		t.Fatalf("probe write on a full database: %v", err)
	}
	if err := full.Ping(t.Context()); err != nil {
		t.Fatalf("a full database still answers reads: %v", err)
	}
	if n := countRows(t, full, "checkout_sessions", ""); n != created {
		t.Fatalf("%d sessions stored after %d successful creations", n, created)
	}
	if n := countRows(t, full, "line_items", ""); n != created*len(p.LineItems) {
		t.Fatalf("%d line items for %d sessions of %d: a creation was half-written", n, created, len(p.LineItems))
	}
	if n := countRows(t, full, "health_probe", ""); n != 0 {
		t.Fatalf("the probe left %d rows", n)
	}
}

// waitFor polls cond until it holds, or fails t after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After an outage the LISTEN connection is back within about a second of the
// database, however long the outage lasted, and every watcher looks again.
func hubResumes(t *testing.T, cl *storetest.Cluster) {
	a, _ := newStore(t, cl.URL())
	b, _ := newStore(t, cl.URL())
	hub := store.NewHub(b, nil)
	if err := hub.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, _ := newMerchant(t, a, nil)
	sess := createSession(t, a, m, false, validParams())
	ch, cancel := hub.Subscribe(sess.ID)
	defer cancel()

	cl.Stop()
	time.Sleep(4 * time.Second) // the outage: long enough for the retries to slow down to their slowest
	resyncs := hub.Resyncs()
	cl.Start()
	back := time.Now()
	if !received(ch, 3*time.Second) {
		t.Fatal("watchers were not told to look again after the database came back")
	}
	if took := time.Since(back); took > 2*time.Second {
		t.Fatalf("the LISTEN connection came back %v after the database", took)
	} else {
		t.Logf("LISTEN connection back %v after the database", took)
	}
	if hub.Resyncs() != resyncs+1 {
		t.Fatalf("resyncs = %d, want %d", hub.Resyncs(), resyncs+1)
	}
	transition(t, a, sess.ID, store.Transition{Action: store.ActionProcess})
	if !received(ch, time.Second) {
		t.Fatal("no notification after the database came back")
	}
}
