// Package storetest gives each test its own empty database on every engine
// the store supports: a fresh SQLite file, and a freshly created PostgreSQL
// database that is dropped when the test ends.
//
// PostgreSQL comes from PAYPAGE_TEST_POSTGRES_URL, an admin URL to a running
// server (`make test` points it at one cluster shared by all packages, started
// by .ci/pg.sh), or else from a throwaway cluster that the test binary starts
// in a temporary directory the first time a test asks for one. When neither
// can be had, PostgreSQL tests are skipped, or fail when PAYPAGE_REQUIRE_ALL=1
// so that CI cannot pass while silently testing one engine only.
//
// Packages that use it call Main from TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// Main stops and removes the throwaway cluster before the binary exits. A
// binary that never gets there (a panic, go test's -timeout, a signal) does
// not leave the cluster running either: a watchdog process started with the
// cluster waits on a pipe from the test binary and, once the kernel closes it
// at the binary's exit, stops the cluster and removes its directory.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

const (
	envPostgresURL = "PAYPAGE_TEST_POSTGRES_URL"
	envRequireAll  = "PAYPAGE_REQUIRE_ALL"
	// envEnginesLog names a file to which Main appends its "engines ran"
	// line, because go test shows a passing package's output only with -v.
	envEnginesLog = "PAYPAGE_TEST_ENGINES_LOG"
)

// Engine is one database engine with the URL of a fresh database on it.
type Engine struct {
	Name string // "sqlite" or "postgres"
	URL  string
}

// state records what this test binary used, for Main's report and cleanup.
var state struct {
	sync.Mutex
	sqlite   bool
	postgres string // describes the server once a database was created on it
	missing  string // why PostgreSQL was unavailable
	server   *pgServer
	fresh    map[string]bool // PostgreSQL databases made and not yet migrated (Migrated)
}

// SQLiteURL returns the URL of a new SQLite database file in a directory
// that is removed when t ends.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	state.Lock()
	state.sqlite = true
	state.Unlock()
	return "sqlite:" + filepath.Join(t.TempDir(), "paypage.db")
}

// PostgresURL returns the URL of a newly created, empty PostgreSQL database
// that is dropped when t ends. It skips t when PostgreSQL is unavailable, or
// fails it when PAYPAGE_REQUIRE_ALL=1.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u, err := postgresURL(t)
	if err != nil {
		unavailable(t, err)
	}
	return u
}

// Engines returns a fresh database on each available engine, for benchmarks
// and other callers that cannot use EachEngine's subtests. PostgreSQL is
// left out, with a log line, when unavailable, unless PAYPAGE_REQUIRE_ALL=1,
// in which case t fails.
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{{Name: "sqlite", URL: SQLiteURL(t)}}
	u, err := postgresURL(t)
	if err != nil {
		msg := unavailableMessage(err)
		if required() {
			t.Fatal(msg)
		}
		t.Log(msg + "; running on SQLite only")
		return engines
	}
	return append(engines, Engine{Name: "postgres", URL: u})
}

// EachEngine runs fn in one subtest per engine, named "sqlite" and
// "postgres", each with a fresh database. Only the postgres subtest is
// skipped when PostgreSQL is unavailable. The two run in parallel (with
// the other parallel tests), so fn must not rely on the calling test's
// deferred calls: use t.Cleanup, which waits for the subtests.
func EachEngine(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, PostgresURL(t)) })
}

// Main runs the tests, runs the given cleanups (a shared browser, say),
// reports which engines they ran on, stops the throwaway cluster if this
// binary started one, and exits with the tests' exit code.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}

	state.Lock()
	srv := state.server
	report := engineReport()
	state.Unlock()

	if report != "" {
		fmt.Fprintln(os.Stderr, "storetest:", report)
		if err := appendEnginesLog(report); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
	}
	if srv != nil {
		srv.close()
	}
	os.Exit(code)
}

// engineReport says which engines ran; the caller holds state's lock.
func engineReport() string {
	var ran []string
	if state.sqlite {
		ran = append(ran, "sqlite")
	}
	if state.postgres != "" {
		ran = append(ran, "postgres ("+state.postgres+")")
	}
	switch {
	case len(ran) == 0 && state.missing == "":
		return ""
	case len(ran) == 0:
		ran = append(ran, "none")
	}
	report := "engines ran: " + strings.Join(ran, ", ")
	if state.postgres == "" && state.missing != "" {
		report += "; " + state.missing
	}
	return report
}

func appendEnginesLog(report string) error {
	path := os.Getenv(envEnginesLog)
	if path == "" {
		return nil
	}
	dir, err := os.Getwd() // go test runs each test binary in its package's directory
	if err != nil {
		return fmt.Errorf("engines log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("engines log: %w", err)
	}
	// One short O_APPEND write, so lines from packages tested in parallel
	// do not interleave.
	_, err = fmt.Fprintf(f, "%s: %s\n", dir, report)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("engines log: %w", err)
	}
	return nil
}

func required() bool { return os.Getenv(envRequireAll) == "1" }

func unavailableMessage(err error) string { return "PostgreSQL unavailable: " + err.Error() }

// unavailable skips t, or fails it when every engine is required.
func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := unavailableMessage(err)
	if required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func postgresURL(t testing.TB) (string, error) {
	srv, err := server()
	if err != nil {
		state.Lock()
		state.missing = unavailableMessage(err)
		state.Unlock()
		return "", err
	}
	// Random rather than derived from t.Name(): many test binaries may share
	// one server, and identifiers are limited to 63 bytes.
	name := "storetest_" + strings.ToLower(rand.Text())
	quoted := pq.QuoteIdentifier(name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+quoted); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE (PostgreSQL 13+) ends connections the test left open, which
		// would otherwise make the drop fail. A failure is only logged: the
		// database is disposable and its server may be shutting down.
		if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})

	state.Lock()
	state.postgres = srv.about
	if state.fresh == nil {
		state.fresh = map[string]bool{}
	}
	state.fresh[name] = true
	state.Unlock()

	u := *srv.adminURL
	u.Path = "/" + name
	return u.String(), nil
}

// pgServer is the PostgreSQL server that test databases are created on.
type pgServer struct {
	admin    *sql.DB
	adminURL *url.URL
	about    string   // version and location, for Main's report
	cluster  *cluster // nil when the server came from the environment
}

// server connects to the PostgreSQL server, starting a throwaway cluster
// the first time when the environment names none. The outcome, failure
// included, is kept for the life of the test binary.
var server = sync.OnceValues(func() (*pgServer, error) {
	if raw := os.Getenv(envPostgresURL); raw != "" {
		srv, err := connect(raw, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envPostgresURL, err)
		}
		return srv, nil
	}
	c, err := startCluster(0)
	if err != nil {
		return nil, fmt.Errorf("start a throwaway cluster: %w", err)
	}
	srv, err := connect(c.url, "throwaway cluster in "+c.dir)
	if err != nil {
		c.stop()
		return nil, err
	}
	srv.cluster = c
	return srv, nil
})

// connect opens an admin connection to raw; where describes the server in
// reports, and defaults to the URL without its password.
func connect(raw, where string) (*pgServer, error) {
	u, err := url.Parse(raw)
	// The parse error is not wrapped: it would repeat the URL, password and all.
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("not a postgres:// URL")
	}
	db, err := sql.Open("postgres", raw)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", u.Redacted(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var version string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	if where == "" {
		where = u.Redacted()
	}
	srv := &pgServer{admin: db, adminURL: u, about: "PostgreSQL " + version + " at " + where}
	state.Lock()
	state.server = srv
	state.Unlock()
	return srv, nil
}

func (s *pgServer) close() {
	dropTemplate(s)
	s.admin.Close()
	if s.cluster != nil {
		s.cluster.stop()
	}
}

// cluster is a throwaway PostgreSQL cluster: data directory, unix socket
// and log all live in dir. It opens a TCP port on 127.0.0.1 only when asked
// to (tcpPort non-zero).
type cluster struct {
	dir     string
	url     string
	tcpPort int
	// pgCtl runs pg_ctl as the cluster's owner, with args.
	pgCtl func(ctx context.Context, args ...string) error
	// opts are the server options pg_ctl start passes on.
	opts string
	// alive is the write end of the watchdog's stdin. Nothing is written to
	// it; closing it, explicitly or by the kernel when this process dies,
	// tells the watchdog to stop the cluster and remove dir.
	alive    *os.File
	watchdog *exec.Cmd
}

// watchdogScript waits for EOF on stdin, then stops the cluster with the
// command given as its arguments (pg_ctl, possibly behind runuser) and
// removes the directory.
const watchdogScript = `read -r _ || :
"$@" stop -D "$STORETEST_DIR/data" -m immediate -s >/dev/null 2>&1 || :
rm -rf -- "$STORETEST_DIR"`

// startCluster runs initdb and pg_ctl as .ci/pg.sh does; keep them in step.
// A tcpPort other than 0 makes the server listen on 127.0.0.1 too.
func startCluster(tcpPort int) (*cluster, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "storetest-pg-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	runAs, err := handToOwner(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	command := func(name string, args ...string) []string {
		return append(append(slices.Clone(runAs), filepath.Join(bin, name)), args...)
	}

	c := &cluster{dir: dir, tcpPort: tcpPort}
	// The watchdog starts first, so that from here on the directory is
	// removed however this process ends.
	if err := c.startWatchdog(command("pg_ctl")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	run := func(ctx context.Context, argv []string) error {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir // somewhere the postgres user may enter
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
		}
		return nil
	}
	c.pgCtl = func(ctx context.Context, args ...string) error { return run(ctx, command("pg_ctl", args...)) }
	// Both take seconds; pg_ctl start gives up by itself after 60.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The C locale sorts like SQLite's default collation and exists on
	// every machine, unlike whatever LANG names.
	if err := run(ctx, command("initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8", "--locale=C")); err != nil {
		c.stop()
		return nil, err
	}
	// Durability is pointless for a throwaway cluster. wal_level=minimal
	// makes CREATE DATABASE, done once per test, four times faster. A fault
	// test's own cluster (on TCP) is crashed on purpose, so its commits must
	// reach the WAL before they are acknowledged (the machine does not
	// crash: fsync stays off). Autovacuum is off: the tests' databases
	// live for seconds, and its launcher visited every one of them.
	port, listen, syncCommit := 5432, "", "off"
	if tcpPort != 0 {
		port, listen, syncCommit = tcpPort, "127.0.0.1", "on"
	}
	c.opts = fmt.Sprintf("-k '%s' -p %d -c listen_addresses='%s' -c fsync=off -c synchronous_commit=%s"+
		" -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_connections=200 -c autovacuum=off", dir, port, listen, syncCommit)
	if err := c.start(ctx); err != nil {
		c.stop()
		return nil, err
	}
	c.url = (&url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {dir}, "port": {strconv.Itoa(port)}, "sslmode": {"disable"}}.Encode(),
	}).String()
	return c, nil
}

// start starts the server and waits until it accepts connections.
func (c *cluster) start(ctx context.Context) error {
	logFile := filepath.Join(c.dir, "log")
	// -l matters beyond keeping the log: without it the server would hold
	// pg_ctl's output pipe open and CombinedOutput would never return.
	if err := c.pgCtl(ctx, "start", "-w", "-D", filepath.Join(c.dir, "data"), "-l", logFile, "-o", c.opts); err != nil {
		serverLog, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w\nserver log:\n%s", err, serverLog)
	}
	return nil
}

func (c *cluster) startWatchdog(pgCtl []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("watchdog pipe: %w", err)
	}
	defer r.Close() // the watchdog has its own copy
	cmd := exec.Command("/bin/sh", append([]string{"-c", watchdogScript, "storetest-watchdog"}, pgCtl...)...)
	cmd.Env = append(os.Environ(), "STORETEST_DIR="+c.dir)
	cmd.Stdin = r
	// Its own session, so that the Ctrl-C that kills the test binary's
	// process group leaves the watchdog to clean up. Its output goes to
	// /dev/null, so it holds no pipe that go test waits on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start watchdog: %w", err)
	}
	c.alive, c.watchdog = w, cmd
	return nil
}

// stop has the watchdog stop the cluster and remove its directory, and
// waits for it to finish.
func (c *cluster) stop() {
	c.alive.Close()
	c.watchdog.Wait()
}

// findBinDir finds a directory holding initdb and pg_ctl: PATH first, then
// the newest of Debian's versioned directories, which are not on PATH.
func findBinDir() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versioned, func(a, b string) int {
		return majorVersion(b) - majorVersion(a)
	})
	for _, dir := range append(dirs, versioned...) {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", errors.New("initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
}

// majorVersion reads 15 from /usr/lib/postgresql/15/bin.
func majorVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// handToOwner makes dir belong to the user the cluster will run as, and
// returns the argv prefix that runs a command as that user: none, unless we
// are root, which initdb refuses; then postgres, through runuser.
func handToOwner(dir string) ([]string, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("running as root, which initdb refuses: %w", err)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which initdb refuses: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("hand %s to postgres: %w", dir, err)
	}
	return []string{runuser, "-u", "postgres", "--"}, nil
}
