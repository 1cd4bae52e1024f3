package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url) // migrated once
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		applied := countRows(t, s, "schema_migrations", "")
		if applied == 0 {
			t.Fatal("no migration recorded")
		}
		for range 2 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
		}
		if n := countRows(t, s, "schema_migrations", ""); n != applied {
			t.Errorf("%d migrations recorded after migrating again, want %d", n, applied)
		}
		wantSameSession(t, getSession(t, s, sess.ID), sess)
	})
}

func TestMigrateIsSafeForInstancesStartingAtOnce(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		stores := make([]*store.Store, 4)
		for i := range stores {
			s, err := store.Open(t.Context(), url)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		next := make(chan *store.Store, len(stores))
		for _, s := range stores {
			next <- s
		}
		for i, err := range race(len(stores), func() error { return (<-next).Migrate(t.Context()) }) {
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		// Every migration recorded once, none missing. Numbers may have gaps
		// (branches reserve theirs), so the files are the reference.
		files, err := os.ReadDir(filepath.Join("migrations", stores[0].Engine()))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := stores[0].DB().QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < 2 || n != len(files) {
			t.Errorf("%d migrations recorded, want one for each of the %d files", n, len(files))
		}
	})
}
