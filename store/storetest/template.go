package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/paypage/paypage/store"
)

// A fresh database made by copying one that was migrated once per test
// binary, instead of migrating each. Under the race detector, migrating
// took a third of the store's tests' time and a seventh of the handlers'
// (SQLite parses its schema anew after every DDL statement, through code
// the race detector and checkptr instrument heavily); on PostgreSQL a
// migration took 0.5 s of the server's time, a copy from a template 0.1 s.
// The copy is what migrating would have made.

var template struct {
	sync.Mutex
	data []byte // the migrated SQLite file
	err  error

	pg    string // the migrated PostgreSQL database, dropped by Main
	pgErr error
}

// Migrated makes the new, empty database at url (from SQLiteURL or
// PostgresURL, not yet opened) what store.Migrate makes of an empty one, by
// copying a template migrated once for the test binary. A SQLite file that
// exists already is left alone.
func Migrated(t testing.TB, url string) {
	t.Helper()
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok {
		migratedPostgres(t, url)
		return
	}
	if strings.Contains(path, "?") {
		return
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return
	}
	data, err := migratedTemplate()
	if err != nil {
		t.Fatalf("storetest: migrate the template database: %v", err)
	}
	// 0600: as the store creates its files (TestSQLiteFilesAreCreatedPrivate).
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("storetest: copy the template database: %v", err)
	}
}

func migratedTemplate() ([]byte, error) {
	template.Lock()
	defer template.Unlock()
	if template.data == nil && template.err == nil {
		template.data, template.err = buildTemplate()
	}
	return template.data, template.err
}

func buildTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	if err := migrateEmpty("sqlite:" + path); err != nil {
		return nil, err
	}
	// Closed, the database is whole in its main file: SQLite checkpoints
	// and removes the write-ahead log when its last connection closes.
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal is still there: was the database closed?", path)
	}
	return os.ReadFile(path)
}

// migratedPostgres replaces the empty database of url, made by PostgresURL
// and not opened since, with a copy of the migrated template.
func migratedPostgres(t testing.TB, rawURL string) {
	t.Helper()
	srv, err := server()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host != srv.adminURL.Host || u.Query().Get("host") != srv.adminURL.Query().Get("host") {
		return // not a database of the test server
	}
	name := strings.TrimPrefix(u.Path, "/")
	state.Lock()
	fresh := state.fresh[name]
	delete(state.fresh, name)
	state.Unlock()
	if !fresh {
		return // opened already (a second instance on one database)
	}
	tpl, err := postgresTemplate(srv)
	if err != nil {
		t.Fatalf("storetest: migrate the template database: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	quoted := pq.QuoteIdentifier(name)
	if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE "+quoted); err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "55006" { // object_in_use
			return // the test opened it already: it is not empty any more
		}
		t.Fatalf("storetest: drop the empty database %s: %v", name, err)
	}
	// FILE_COPY: for a small database, copying its files is quicker than
	// PostgreSQL 15's default of writing every block to the WAL.
	if err := createFrom(ctx, srv, quoted, tpl); err != nil {
		t.Fatalf("storetest: copy the template database into %s: %v", name, err)
	}
}

// createFrom creates database quoted as a copy of tpl. PostgreSQL refuses
// while a session is connected to the template, and a session that a
// client closed may linger for a moment on the server: that is retried.
func createFrom(ctx context.Context, srv *pgServer, quoted, tpl string) error {
	for {
		_, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+quoted+" TEMPLATE "+pq.QuoteIdentifier(tpl)+" STRATEGY FILE_COPY")
		var pqErr *pq.Error
		if err == nil || !errors.As(err, &pqErr) || pqErr.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func postgresTemplate(srv *pgServer) (string, error) {
	template.Lock()
	defer template.Unlock()
	if template.pg != "" || template.pgErr != nil {
		return template.pg, template.pgErr
	}
	name := "storetest_template_" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		template.pgErr = err
		return "", err
	}
	template.pg = name
	u := *srv.adminURL
	u.Path = "/" + name
	if err := migrateEmpty(u.String()); err != nil {
		template.pgErr = err
	}
	return template.pg, template.pgErr
}

// dropTemplate drops the PostgreSQL template, if one was made.
func dropTemplate(srv *pgServer) {
	template.Lock()
	defer template.Unlock()
	if template.pg == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(template.pg)+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "storetest: drop the template database:", err)
	}
	template.pg = ""
}

// migrateEmpty migrates the database at url and closes it.
func migrateEmpty(url string) error {
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Migrate(ctx)
}
