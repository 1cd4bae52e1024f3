package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// On SQLite no commit checkpoints the WAL (wal_autocheckpoint is off on
// every connection): the checkpointer copies this process's commits into
// the database soon after they land, and another process's (which
// checkpoints nothing either) within its idle period.
func TestSQLiteCheckpointsRunInTheBackground(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var every int
	if err := s.db.GetContext(ctx, &every, `PRAGMA wal_autocheckpoint`); err != nil || every != 0 {
		t.Fatalf("wal_autocheckpoint = %d (%v), want 0: commits would checkpoint", every, err)
	}
	s.checkpoints.close() // one that also looks every 300 ms when idle
	s.checkpoints = startCheckpointer(s.db, s.writers, 300*time.Millisecond, checkpointTail)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE blobs (b BLOB)`); err != nil {
		t.Fatal(err)
	}

	// backfilled waits until a checkpoint that ran after since copied all
	// of the WAL's frames, and at least want.
	backfilled := func(what string, since int64, want int64) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for s.checkpoints.runs.Load() <= since || s.checkpoints.copied.Load() < want ||
			s.checkpoints.copied.Load() != s.checkpoints.log.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not checkpointed within 3 s: %d runs, the last copied %d of %d frames", what,
					s.checkpoints.runs.Load(), s.checkpoints.copied.Load(), s.checkpoints.log.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	write := func(db *sqlx.DB, n int) {
		t.Helper()
		for range n {
			if _, err := db.ExecContext(ctx, `INSERT INTO blobs VALUES (?)`, strings.Repeat("x", 3000)); err != nil {
				t.Fatal(err)
			}
		}
	}

	runs := s.checkpoints.runs.Load()
	for range 100 {
		if err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO blobs VALUES (?)`, strings.Repeat("x", 3000))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	backfilled("this process's commits", runs, 100)

	// Another process, as the command line opens it: checkpoints nothing.
	_, dsn, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	runs = s.checkpoints.runs.Load()
	write(other, 100)
	backfilled("another process's commits", runs, 100)
}

// Under a steady stream of this process's commits the WAL starts over
// again and again, as it did when commits checkpointed: a checkpoint beside
// running writers never copies all of it, and without the pass that holds
// them for the last pages it grew by every commit (286 MB in two seconds
// here). The WAL is said to start over from 1000 pages here, 8000 in
// production, so that even a slow run (-race) gets there.
func TestSQLiteWALStaysBoundedUnderSteadyWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.checkpoints.close()
	s.checkpoints = startCheckpointer(s.db, s.writers, checkpointIdle, 1000)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE blobs (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	stop := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := s.inTx(ctx, func(tx *sqlx.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO blobs VALUES (?)`, strings.Repeat("x", 1500))
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				commits.Add(1)
			}
		})
	}
	wg.Wait()
	// Every commit wrote a frame at least: a WAL that never started over
	// holds one for each.
	var busy, log, copied int64
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits; the WAL holds %d frames (%d MB); %d checkpoint passes, %d holding the writers",
		commits.Load(), log, fi.Size()>>20, s.checkpoints.runs.Load(), s.checkpoints.held.Load())
	if s.checkpoints.held.Load() == 0 || log >= commits.Load() {
		t.Fatalf("the WAL never started over: %d frames after %d commits", log, commits.Load())
	}
}
