package storetest_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/paypage/paypage/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// open opens a storetest URL the way the store will: lib/pq for postgres://,
// modernc's "sqlite" driver for the path after "sqlite:".
func open(t *testing.T, rawURL string) *sql.DB {
	t.Helper()
	driver, dsn := "postgres", rawURL
	if path, ok := strings.CutPrefix(rawURL, "sqlite:"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", rawURL, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestEachEngineGivesAWorkingDatabase(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		var one int
		if err := open(t, url).QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Fatalf("SELECT 1 on %s: %v", url, err)
		}
		if one != 1 {
			t.Fatalf("SELECT 1 = %d", one)
		}
	})
}

func TestEachCallGivesASeparateDatabase(t *testing.T) {
	for _, tc := range []struct {
		engine string
		url    func(testing.TB) string
	}{
		{"sqlite", storetest.SQLiteURL},
		{"postgres", storetest.PostgresURL},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			first, second := tc.url(t), tc.url(t)
			if first == second {
				t.Fatalf("two calls returned the same URL %s", first)
			}
			if _, err := open(t, first).Exec("CREATE TABLE only_in_first (id INTEGER)"); err != nil {
				t.Fatalf("create table in first: %v", err)
			}
			var n int
			err := open(t, second).QueryRow("SELECT count(*) FROM only_in_first").Scan(&n)
			if err == nil {
				t.Fatal("a table created in the first database is visible in the second")
			}
		})
	}
}

func TestPostgresDatabaseIsDroppedAfterTheTest(t *testing.T) {
	var dbURL string
	t.Run("user", func(t *testing.T) {
		dbURL = storetest.PostgresURL(t)
		// Left open on purpose: the drop must not be blocked by it.
		if err := open(t, dbURL).Ping(); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
	if dbURL == "" {
		t.Skip("no PostgreSQL database was created")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse %s: %v", dbURL, err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	var exists bool
	err = open(t, u.String()).QueryRow("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatalf("look for database %s: %v", name, err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestEnginesListsEveryAvailableEngine(t *testing.T) {
	engines := storetest.Engines(t)
	if len(engines) == 0 || engines[0].Name != "sqlite" || !strings.HasPrefix(engines[0].URL, "sqlite:") {
		t.Fatalf("Engines()[0] = %+v, want a sqlite: URL", engines)
	}
	for _, e := range engines[1:] {
		if e.Name != "postgres" || !strings.HasPrefix(e.URL, "postgres://") {
			t.Fatalf("unexpected engine %+v", e)
		}
	}
	for _, e := range engines {
		var one int
		if err := open(t, e.URL).QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Fatalf("%s: SELECT 1: %v", e.Name, err)
		}
	}
}
