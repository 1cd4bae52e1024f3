package storetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A fresh SQLite database made by copying one that was migrated once per
// test binary, instead of migrating each: under the race detector,
// migrating took a third of the store's tests' time and a seventh of the
// handlers' (SQLite parses its schema anew after every DDL statement,
// through code the race detector and checkptr instrument heavily). The
// copy is the same file migrating would have made.

var template struct {
	sync.Mutex
	data []byte // the migrated database file
	err  error
}

// Migrated makes the new SQLite database at url (from SQLiteURL, not yet
// opened) what migrate makes of an empty one, by copying a template that
// migrate made once for the test binary. migrate gets the URL of an empty
// database to migrate, and must close it before it returns. Migrated does
// nothing for a PostgreSQL URL, or for a file that exists already.
func Migrated(t testing.TB, url string, migrate func(url string) error) {
	t.Helper()
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok || strings.Contains(path, "?") {
		return
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return
	}
	data, err := migratedTemplate(migrate)
	if err != nil {
		t.Fatalf("storetest: migrate the template database: %v", err)
	}
	// 0600: as the store creates its files (TestSQLiteFilesAreCreatedPrivate).
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("storetest: copy the template database: %v", err)
	}
}

func migratedTemplate(migrate func(url string) error) ([]byte, error) {
	template.Lock()
	defer template.Unlock()
	if template.data == nil && template.err == nil {
		template.data, template.err = buildTemplate(migrate)
	}
	return template.data, template.err
}

func buildTemplate(migrate func(url string) error) ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	if err := migrate("sqlite:" + path); err != nil {
		return nil, err
	}
	// Closed, the database is whole in its main file: SQLite checkpoints
	// and removes the write-ahead log when its last connection closes.
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal is still there: was the database closed?", path)
	}
	return os.ReadFile(path)
}
