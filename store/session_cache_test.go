package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// readPage reads a session's page through the cache.
func readPage(t *testing.T, c *store.SessionCache, id string) (*store.Session, *store.Merchant) {
	t.Helper()
	sess, m, err := c.SessionPage(t.Context(), id)
	if err != nil {
		t.Fatalf("cached page of %s: %v", id, err)
	}
	return sess, m
}

func TestSessionCacheServesRepeatedReadsWithoutTheDatabaseOnSQLite(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t, storetest.SQLiteURL(t))
	hub := store.NewHub(s, nil)
	defer hub.Close()
	cache := hub.Cache()
	m, _ := newMerchant(t, s, nil)
	sess := createSession(t, s, m, false, validParams())
	count := countStatements(s)

	first, _ := readPage(t, cache, sess.ID)
	if n := count.Take(); total(n) != 2 {
		t.Fatalf("first read sent %v, want 2 queries", n)
	}
	for range 3 {
		again, _ := readPage(t, cache, sess.ID)
		wantSameSession(t, again, first)
		if st, err := cache.SessionState(t.Context(), sess.ID); err != nil || st.Version != first.Version || st.Status != store.StatusOpen {
			t.Fatalf("cached state = %+v, %v", st, err)
		}
	}
	if n := count.Take(); total(n) != 0 {
		t.Fatalf("repeated reads sent %v, want nothing", n)
	}

	// Expiry stays exact: the cached open session is expired at its
	// expires_at, not a second later, without a read.
	clk.Set(time.Unix(sess.ExpiresAt-1, 0))
	if got, _ := readPage(t, cache, sess.ID); got.Status != store.StatusOpen {
		t.Fatalf("a second before expiry: %s", got.Status)
	}
	clk.Set(time.Unix(sess.ExpiresAt, 0))
	if got, _ := readPage(t, cache, sess.ID); got.Status != store.StatusExpired || got.ExpiredAt == nil {
		t.Fatalf("at expires_at: %s", got.Status)
	}
	if st, _ := cache.SessionState(t.Context(), sess.ID); st.Status != store.StatusExpired {
		t.Fatalf("state at expires_at: %s", st.Status)
	}
	if n := count.Take(); total(n) != 0 {
		t.Fatalf("reads across expiry sent %v, want nothing", n)
	}
}

func TestSessionCacheIsNeverStaleOnSQLite(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, storetest.SQLiteURL(t))
	hub := store.NewHub(s, nil)
	defer hub.Close()
	cache := hub.Cache()
	m, _ := newMerchant(t, s, nil)
	sess := createSession(t, s, m, false, validParams())
	transition(t, s, sess.ID, store.Transition{Action: store.ActionSucceed})
	for i := range 50 {
		readPage(t, cache, sess.ID) // cached
		after := transition(t, s, sess.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 10, Status: store.RefundPending}})
		got, _ := readPage(t, cache, sess.ID)
		if got.Version != after.Version || len(got.Refunds) != i+1 {
			t.Fatalf("round %d: read version %d with %d refunds right after the change to version %d",
				i, got.Version, len(got.Refunds), after.Version)
		}
		if st, _ := cache.SessionState(t.Context(), sess.ID); st.Version != after.Version {
			t.Fatalf("round %d: state version %d, want %d", i, st.Version, after.Version)
		}
	}
	// A merchant's change shows on its cached pages at once.
	readPage(t, cache, sess.ID)
	if _, err := s.UpdateMerchant(t.Context(), m.ID, func(m *store.Merchant) error {
		m.DisplayName = "Renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, gm := readPage(t, cache, sess.ID); gm.DisplayName != "Renamed" {
		t.Fatalf("merchant display name %q after the change, want Renamed", gm.DisplayName)
	}
	if _, err := s.SetMerchantDisabled(t.Context(), m.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, gm := readPage(t, cache, sess.ID); !gm.Disabled() {
		t.Fatal("a disabled merchant's cached page still shows it enabled")
	}
}

// instance is one paypage instance's store and hub on a shared database.
func instance(t *testing.T, url string) (*store.Store, *store.Hub) {
	t.Helper()
	s, _ := newStore(t, url)
	h := store.NewHub(s, nil)
	if err := h.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return s, h
}

func TestSessionCacheIsNeverStaleAcrossInstancesOnPostgres(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a, hubA := instance(t, url)
	_, hubB := instance(t, url)
	cache := hubB.Cache()
	m, _ := newMerchant(t, a, nil)
	sess := createSession(t, a, m, false, validParams())
	transition(t, a, sess.ID, store.Transition{Action: store.ActionSucceed})
	// The first read may be cached before the signal of the change above
	// drops it; the second syncs first, so it caches what stays current.
	readPage(t, cache, sess.ID)
	readPage(t, cache, sess.ID)

	// A repeated read on B sends no read of the session: only the sync
	// that proves nothing changed meanwhile, one small statement (two
	// instances: no lease).
	eventually(t, "A lets the lease go", func() bool { return !hubA.LeaseHeld() })
	before := cacheCounts(hubB)
	for range 3 {
		readPage(t, cache, sess.ID)
		if _, err := cache.SessionState(t.Context(), sess.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := cacheCounts(hubB).minus(before); got != (caches{hits: 6, syncs: 6}) {
		t.Fatalf("6 repeated reads on B: %+v, want 6 hits after 6 syncs", got)
	}

	for i := range 100 {
		after := transition(t, a, sess.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 10, Status: store.RefundPending}})
		got, _ := readPage(t, cache, sess.ID) // at once, on the other instance
		if got.Version != after.Version || len(got.Refunds) != i+1 {
			t.Fatalf("round %d: B read version %d with %d refunds right after A changed it to version %d",
				i, got.Version, len(got.Refunds), after.Version)
		}
		readPage(t, cache, sess.ID) // cached again, for the next round
	}
	if _, hits, _ := cache.CacheStats(); hits < 100 {
		t.Fatalf("%d hits: the loop did not read from the cache", hits)
	}

	// A merchant's change on A shows on B's cached pages at once.
	if _, err := a.UpdateMerchant(t.Context(), m.ID, func(m *store.Merchant) error {
		m.DisplayName = "Renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, gm := readPage(t, cache, sess.ID); gm.DisplayName != "Renamed" {
		t.Fatalf("B shows merchant %q after A renamed it", gm.DisplayName)
	}
}

func TestSessionCacheIsBypassedWhileTheListenerIsDown(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a, _ := newStore(t, url)
	b, _ := newStore(t, url)
	hub := store.NewHub(b, nil)
	g := newGate()
	hub.SetDialer(g)
	cache := hub.Cache()
	m, _ := newMerchant(t, a, nil)
	sess := createSession(t, a, m, false, validParams())

	// Before it listens, B hears of no other instance: no hit.
	readPage(t, cache, sess.ID)
	readPage(t, cache, sess.ID)
	if _, hits, _ := cache.CacheStats(); hits != 0 {
		t.Fatalf("%d hits before the hub listens", hits)
	}
	if err := hub.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	readPage(t, cache, sess.ID)
	readPage(t, cache, sess.ID)
	if _, hits, _ := cache.CacheStats(); hits == 0 {
		t.Fatal("no hit while listening")
	}

	// The LISTEN connection dies and stays away: a change made meanwhile
	// is notified to nobody, yet B reads it.
	watch, unwatch := hub.Subscribe(sess.ID)
	defer unwatch()
	g.shut()
	if n := killListeners(t, a); n != 1 {
		t.Fatalf("terminated %d LISTEN connections, want 1", n)
	}
	count := countStatements(b)
	transition(t, a, sess.ID, store.Transition{Action: store.ActionProcess})
	after := getSession(t, a, sess.ID)
	got, _ := readPage(t, cache, sess.ID)
	if got.Version != after.Version || got.Status != after.Status {
		t.Fatalf("with the listener down B read version %d (%s), want %d (%s)", got.Version, got.Status, after.Version, after.Status)
	}
	if st, _ := cache.SessionState(t.Context(), sess.ID); st.Version != after.Version {
		t.Fatalf("with the listener down B's state is version %d, want %d", st.Version, after.Version)
	}
	if n := count.Take(); n[store.OpQuery] < 2 {
		t.Fatalf("with the listener down B sent %v: the cache was used", n)
	}

	// Back: once the hub has resynchronised (every watcher is signalled),
	// the cache serves again, and what it serves is current.
	g.release()
	if !received(watch, 10*time.Second) {
		t.Fatal("the listener did not come back within 10 s")
	}
	readPage(t, cache, sess.ID)
	_, before, _ := cache.CacheStats()
	readPage(t, cache, sess.ID)
	if _, hits, _ := cache.CacheStats(); hits != before+1 {
		t.Fatal("the cache is not used after the listener came back")
	}
	after = transition(t, a, sess.ID, store.Transition{Action: store.ActionSucceed})
	if got, _ := readPage(t, cache, sess.ID); got.Version != after.Version {
		t.Fatalf("after the return B read version %d, want %d", got.Version, after.Version)
	}
}

// Requests that share a read under way (many streams of a session wake at
// once) never get an older state than was committed before they began,
// however the reads of others interleave.
func TestSessionCacheSharedReadsAreNeverStale(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		// a changes the session; hub is the instance that reads it (on
		// SQLite, the same one).
		var a *store.Store
		var hub *store.Hub
		if strings.HasPrefix(url, "postgres") {
			a, _ = instance(t, url)
			_, hub = instance(t, url)
		} else {
			a, _ = newStore(t, url)
			hub = store.NewHub(a, nil)
			defer hub.Close()
		}
		cache := hub.Cache()
		m, _ := newMerchant(t, a, nil)
		sess := createSession(t, a, m, false, validParams())
		transition(t, a, sess.ID, store.Transition{Action: store.ActionSucceed})

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 6 { // others, reading all the time
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					cache.SessionState(context.Background(), sess.ID)
					cache.SessionPage(context.Background(), sess.ID)
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		for i := range 40 {
			after := transition(t, a, sess.ID, store.Transition{Action: store.ActionRefund,
				Refund: &store.RefundParams{Amount: 10, Status: store.RefundPending}})
			st, err := cache.SessionState(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readPage(t, cache, sess.ID)
			if st.Version != after.Version || got.Version != after.Version {
				t.Fatalf("round %d: read state version %d and page version %d right after the change to %d",
					i, st.Version, got.Version, after.Version)
			}
		}
	})
}
