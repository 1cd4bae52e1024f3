// Package store is paypage's domain (merchants, checkout sessions and their
// state machine, refunds, idempotency records) and its persistence on
// PostgreSQL (lib/pq) or embedded SQLite (modernc.org/sqlite), behind one API.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names, as sqlx knows the drivers.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Handler is what both *sqlx.DB and *sqlx.Tx offer; helpers take it so that
// they run the same inside and outside a transaction.
type Handler interface {
	sqlx.ExtContext
	sqlx.PreparerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// Store is the single entry point to paypage's data.
type Store struct {
	db     *sqlx.DB
	engine string
	dsn    string // the driver's connection string, for the hub's LISTEN connection

	// Now is the clock. Tests replace it to make expiry exact without sleeping.
	Now func() time.Time

	// OnChange, when set, is called after every committed session change with
	// the session id (the in-process half of live updates).
	OnChange func(sessionID string)
	// onMerchantChange, set by the hub, is called after a committed change
	// of a merchant or its keys (merchantTx).
	onMerchantChange func(merchantID string)
	// holdsLease, set by the hub on PostgreSQL, says whether this process
	// holds the caches' lease (hub_lease.go).
	holdsLease func() bool
	// leaseWatch is what this process's writers last saw of the lease
	// (hub_lease.go); shared by copies of the Store.
	leaseWatch *leaseWatch
	// admin moves with every change of a merchant or its keys, in any
	// process (SQLite only: admin_gen.go).
	admin *adminGen
	// OnTransition, when set, is called after every committed transition
	// with its action and source (for metrics).
	OnTransition func(action Action, source string)

	// writers holds the one transaction of this process that may write
	// at a time on SQLite (inTx); nil on PostgreSQL.
	writers chan struct{}
	// checkpoints runs SQLite's WAL checkpoints off the writers' path
	// (sqlite_checkpoint.go); nil on PostgreSQL.
	checkpoints *walCheckpointer

	timer *queryTimer // times every database round trip (ObserveQueries)
	stmts *stmtCache  // statements prepared on the pool (session_read.go)
}

// Open connects to the database named by rawURL: "postgres://…" or
// "postgresql://…" for PostgreSQL, "sqlite:PATH" or a bare path for SQLite.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	engine, dsn, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	timer := &queryTimer{}
	base, err := connector(engine, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", engine, err)
	}
	db := sqlx.NewDb(sql.OpenDB(timedConnector{base, timer}), engine)
	switch engine {
	case Postgres:
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	case SQLite:
		// One writer at a time is SQLite's nature; WAL lets readers go on
		// meanwhile, and busy_timeout queues writers instead of failing them.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	s := &Store{db: db, engine: engine, dsn: dsn, Now: time.Now, timer: timer, stmts: &stmtCache{},
		leaseWatch: &leaseWatch{}}
	if engine == SQLite {
		s.writers = make(chan struct{}, 1)
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if s.admin, err = openAdminGen(path); err != nil {
			db.Close()
			return nil, err
		}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", engine, err)
	}
	if engine == SQLite {
		s.checkpoints = startCheckpointer(db, s.writers, checkpointIdle, checkpointTail)
	}
	return s, nil
}

// connector opens the engine's connections. On PostgreSQL every wait on a
// connection ends with its context, even when the server does not answer
// (pgconn.go).
func connector(engine, dsn string) (driver.Connector, error) {
	if engine == Postgres {
		return newPGConnector(dsn)
	}
	return driverConnector(engine, dsn)
}

// parseURL turns a paypage database URL into a driver name and DSN.
func parseURL(rawURL string) (engine, dsn string, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", "", fmt.Errorf("store: database URL: %w", err)
		}
		q := u.Query()
		// With binary_parameters lib/pq sends Parse/Bind/Execute in one go:
		// a parameterised query costs one round trip instead of two, inside
		// transactions too, without keeping prepared statements per connection.
		if q.Get("binary_parameters") == "" {
			q.Set("binary_parameters", "yes")
		}
		u.RawQuery = q.Encode()
		return Postgres, u.String(), nil
	case rawURL == "":
		return "", "", errors.New("store: empty database URL")
	default:
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		path, query, _ := strings.Cut(path, "?")
		if path == "" {
			return "", "", errors.New("store: sqlite URL without a path")
		}
		pragmas, err := sqlitePragmas(query)
		if err != nil {
			return "", "", err
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", "", fmt.Errorf("store: create data directory: %w", err)
			}
		}
		if err := createPrivate(path); err != nil {
			return "", "", fmt.Errorf("store: create database file: %w", err)
		}
		// _txlock=immediate takes the write lock at BEGIN, so two writers never
		// both read then deadlock on upgrade; foreign keys are off by default.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)" +
			"&_pragma=journal_size_limit(67108864)&_txlock=immediate" + pragmas
		return SQLite, dsn, nil
	}
}

// sqlitePragmas reads the query of a sqlite: URL, where only _pragma is
// allowed (sqlite:PATH?_pragma=max_page_count(262144) caps the file's
// size), and returns it as DSN parameters to append after paypage's own.
func sqlitePragmas(query string) (string, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("store: sqlite URL: %w", err)
	}
	var out strings.Builder
	for k, vs := range q {
		if k != "_pragma" {
			return "", fmt.Errorf("store: sqlite URL parameter %q is not supported; only _pragma is", k)
		}
		for _, v := range vs {
			out.WriteString("&_pragma=" + url.QueryEscape(v))
		}
	}
	return out.String(), nil
}

// createPrivate creates the database file readable by its owner only,
// unless it exists: it holds secrets and shoppers' personal data, and SQLite
// gives its WAL and shared-memory files the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Engine reports "postgres" or "sqlite".
func (s *Store) Engine() string { return s.engine }

// DB exposes the pool for the live-update listener and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error {
	if s.checkpoints != nil {
		s.checkpoints.close()
	}
	err := s.db.Close()
	if aerr := s.admin.close(); err == nil {
		err = aerr
	}
	return err
}

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// probeFiller needs more room than any one request writes (16 SQLite
// pages), so that a database too full for a new session fails the probe
// too. Random, so that PostgreSQL cannot compress it away.
var probeFiller = func() []byte {
	b := make([]byte, 64<<10)
	rand.Read(b)
	return b
}()

// ProbeWrite checks that the database takes a write that needs new space: it
// inserts a row of 64 KiB and deletes it again in one committed transaction,
// so nothing of it stays. A full disk, a read-only database or a server that
// cannot commit fail it where a ping still succeeds.
func (s *Store) ProbeWrite(ctx context.Context) error {
	id := randomString(16)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO health_probe (id, filler) VALUES (?, ?)`), id, probeFiller); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM health_probe WHERE id = ?`), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	return nil
}

func (s *Store) now() time.Time { return s.Now() }

//go:embed migrations
var migrations embed.FS

// Migrate applies, in order and each in its own transaction, every embedded
// migration of this engine that the database has not seen yet.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Under the migrations' lock: on PostgreSQL, CREATE TABLE IF NOT
		// EXISTS run by two instances at once can fail in both ("type
		// schema_migrations already exists", or a unique violation on
		// pg_type), so a cluster of instances starting together would crash.
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	dir := "migrations/" + s.engine
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: bad name", e.Name())
		}
		body, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if err := s.applyMigration(ctx, version, string(body)); err != nil {
			return fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, body string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`), version, s.now().Unix())
		return err
	})
}

// lockMigrations makes instances that start at once against one PostgreSQL
// database migrate one after the other; the lock lasts until tx ends. SQLite
// needs none: its transactions already take the write lock at BEGIN.
func (s *Store) lockMigrations(ctx context.Context, tx *sqlx.Tx) error {
	if s.engine != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7261796)`)
	return err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	if s.writers != nil {
		// SQLite: this process's writers queue here, in order and awake,
		// rather than on the database's write lock, where busy_timeout
		// wakes a waiter only after sleeps of 1, 2, 5, 10… ms each.
		select {
		case s.writers <- struct{}{}:
			defer func() { <-s.writers }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return mapErr(err)
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	if s.checkpoints != nil {
		s.checkpoints.committed()
	}
	return nil
}

// mapErr turns driver errors into domain errors: a unique violation is a
// conflict, no rows is not-found. Anything else stays as it is (internal).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &Error{Code: ENOTFOUND, Message: "not found"}
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("%w: %w", &Error{Code: ECONFLICT, Message: "already exists"}, err)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", &Error{Code: ECONFLICT, Message: "already exists"}, err)
		}
	}
	return err
}
