package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// authenticates fails the test unless key authenticates as merchant id
// through the cache.
func authenticates(t *testing.T, ctx context.Context, keys *store.KeyCache, key, id string) {
	t.Helper()
	m, live, err := keys.Authenticate(ctx, key)
	if err != nil || m.ID != id || live {
		t.Fatalf("key …%s: merchant %v, livemode %v, err %v; want test mode of %s", key[len(key)-4:], m, live, err, id)
	}
}

// keyRefused fails the test unless key is refused through the cache as an
// unknown key is.
func keyRefused(t *testing.T, ctx context.Context, keys *store.KeyCache, key string) {
	t.Helper()
	if m, _, err := keys.Authenticate(ctx, key); !store.IsNotFound(err) {
		t.Fatalf("key …%s: merchant %v, err %v; want it refused", key[len(key)-4:], m, err)
	}
}

func TestKeyCacheAuthenticatesRepeatedKeysWithoutTheDatabaseOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, clk := newStore(t, storetest.SQLiteURL(t))
	hub := store.NewHub(s, nil)
	defer hub.Close()
	keys := hub.Keys()
	m, k := newMerchant(t, s, nil)
	count := countStatements(s)

	authenticates(t, ctx, keys, k.Test, m.ID)
	if n := count.Take(); total(n) != 1 {
		t.Fatalf("first authentication sent %v, want 1 query", n)
	}
	for range 3 {
		authenticates(t, ctx, keys, k.Test, m.ID)
	}
	if n := count.Take(); total(n) != 0 {
		t.Fatalf("repeated authentications sent %v, want nothing", n)
	}
	// The merchant handed out is each caller's own.
	got, _, _ := keys.Authenticate(ctx, k.Test)
	got.Name = "changed by a handler"
	authenticates(t, ctx, keys, k.Test, m.ID)
	if again, _, _ := keys.Authenticate(ctx, k.Test); again.Name != "Shop" {
		t.Fatalf("a caller's change reached the cache: %q", again.Name)
	}

	// Unknown keys are never kept: each asks the database.
	for range 2 {
		keyRefused(t, ctx, keys, "sk_test_"+"x"+k.Test[9:])
	}
	if n := count.Take(); n[store.OpQuery] != 2 {
		t.Fatalf("two unknown keys sent %v, want 2 queries", n)
	}

	// A roll with an overlap: the old key works to the second before its
	// expiry, from the cache, and not at it.
	rolled, err := s.RollKey(ctx, m.ID, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	authenticates(t, ctx, keys, k.Test, m.ID)
	authenticates(t, ctx, keys, rolled.Secret, m.ID)
	count.Take()
	clk.Set(time.Unix(rolled.OldExpiresAt-1, 0))
	authenticates(t, ctx, keys, k.Test, m.ID)
	clk.Set(time.Unix(rolled.OldExpiresAt, 0))
	keyRefused(t, ctx, keys, k.Test)
	authenticates(t, ctx, keys, rolled.Secret, m.ID)
	if n := count.Take(); total(n) != 0 {
		t.Fatalf("reads across the old key's expiry sent %v, want nothing", n)
	}

	// A roll without overlap, a disabled merchant: refused at once.
	again, err := s.RollKey(ctx, m.ID, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	keyRefused(t, ctx, keys, rolled.Secret)
	authenticates(t, ctx, keys, again.Secret, m.ID)
	if _, err := s.SetMerchantDisabled(ctx, m.ID, true); err != nil {
		t.Fatal(err)
	}
	keyRefused(t, ctx, keys, again.Secret)
	if _, err := s.SetMerchantDisabled(ctx, m.ID, false); err != nil {
		t.Fatal(err)
	}
	authenticates(t, ctx, keys, again.Secret, m.ID)
}

// The command line changes merchants in a process of its own: on SQLite
// nothing is notified, and the admin generation beside the database makes
// a running server's caches see the change at once. The second store here
// is such a process: it opens the same file and has no hub.
func TestCachesSeeMerchantChangesOfAnotherProcessOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := storetest.SQLiteURL(t)
	server, _ := newStore(t, url)
	hub := store.NewHub(server, nil)
	defer hub.Close()
	cli, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	m, k := newMerchant(t, server, nil)
	sess := createSession(t, server, m, false, validParams())
	keys, pages := hub.Keys(), hub.Cache()

	for i := range 20 {
		for range 2 { // the second from the caches
			authenticates(t, ctx, keys, k.Test, m.ID)
			readPage(t, pages, sess.ID)
		}
		if _, err := cli.SetMerchantDisabled(ctx, m.ID, true); err != nil {
			t.Fatal(err)
		}
		keyRefused(t, ctx, keys, k.Test)
		if _, gm := readPage(t, pages, sess.ID); !gm.Disabled() {
			t.Fatalf("round %d: the page still shows the merchant enabled after another process disabled it", i)
		}
		if _, err := cli.SetMerchantDisabled(ctx, m.ID, false); err != nil {
			t.Fatal(err)
		}
		authenticates(t, ctx, keys, k.Test, m.ID)
		rolled, err := cli.RollKey(ctx, m.ID, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		keyRefused(t, ctx, keys, k.Test)
		k.Test = rolled.Secret
	}
	_, hits, _ := pages.CacheStats()
	if hits < 20 {
		t.Fatalf("%d page hits: the loop did not read from the cache", hits)
	}
}

func TestKeyCacheIsNeverStaleAcrossInstancesOnPostgres(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a, hubA := instance(t, url)
	_, hubB := instance(t, url)
	keys := hubB.Keys()
	m, k := newMerchant(t, a, nil)
	sess := createSession(t, a, m, false, validParams())
	authenticates(t, t.Context(), keys, k.Test, m.ID)
	readPage(t, hubB.Cache(), sess.ID)

	// An API request on B: its key and its session from the caches, after
	// one sync for both (two instances: no lease), and no read.
	eventually(t, "A lets the lease go", func() bool { return !hubA.LeaseHeld() })
	before := cacheCounts(hubB)
	for range 3 {
		ctx := hubB.WithSyncScope(t.Context())
		authenticates(t, ctx, keys, k.Test, m.ID)
		if _, err := hubB.Cache().MerchantSession(ctx, m.ID, false, sess.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := cacheCounts(hubB).minus(before); got != (caches{hits: 6, syncs: 3}) {
		t.Fatalf("3 API reads on B: %+v, want 6 hits after 3 syncs", got)
	}

	for i := range 30 {
		if _, err := a.SetMerchantDisabled(t.Context(), m.ID, true); err != nil {
			t.Fatal(err)
		}
		keyRefused(t, t.Context(), keys, k.Test) // at once, on the other instance
		if _, err := a.SetMerchantDisabled(t.Context(), m.ID, false); err != nil {
			t.Fatal(err)
		}
		authenticates(t, t.Context(), keys, k.Test, m.ID)
		authenticates(t, t.Context(), keys, k.Test, m.ID) // cached again
		rolled, err := a.RollKey(t.Context(), m.ID, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := keys.Authenticate(t.Context(), k.Test); !store.IsNotFound(err) {
			t.Fatalf("round %d: B still takes the key A rolled without overlap", i)
		}
		k.Test = rolled.Secret
		authenticates(t, t.Context(), keys, k.Test, m.ID)
	}
}
