package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// On SQLite, this process's write transactions wait for each other on the
// store's queue: a waiter gives up with its context (not after
// busy_timeout's ten seconds), and many at once all commit.
func TestSQLiteWritersQueueInProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE n (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO n VALUES (0)`); err != nil {
		t.Fatal(err)
	}

	holding, release := make(chan struct{}), make(chan struct{})
	go s.inTx(ctx, func(tx *sqlx.Tx) error {
		close(holding)
		<-release
		return nil
	})
	<-holding
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.inTx(short, func(tx *sqlx.Tx) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("a writer waiting behind another: %v after %s, want its deadline at 100 ms", err, time.Since(start))
	}
	close(release)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			errs <- s.inTx(ctx, func(tx *sqlx.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE n SET v = v + 1`)
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var v int
	if err := s.db.GetContext(ctx, &v, `SELECT v FROM n`); err != nil || v != 40 {
		t.Fatalf("40 concurrent increments gave %d (%v)", v, err)
	}
}
