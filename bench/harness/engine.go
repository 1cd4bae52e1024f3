package harness

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"

	_ "github.com/lib/pq" // to create and drop the benchmark's database
)

// engine is one database paypage and B2 share for a run.
type engine struct {
	name  string // sqlite or postgres
	url   string // paypage's --database-url
	close func() error
}

// sqliteEngine is a fresh SQLite file in dir.
func sqliteEngine(dir string) *engine {
	return &engine{name: "sqlite", url: "sqlite:" + filepath.Join(dir, "paypage.db"), close: func() error { return nil }}
}

// postgresEngine creates a fresh database in the cluster adminURL names (the
// throwaway cluster .ci/test.sh starts) and drops it on close.
func postgresEngine(ctx context.Context, adminURL string) (*engine, error) {
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return nil, err
	}
	name := "paybench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		admin.Close()
		return nil, err
	}
	u.Path = "/" + name
	return &engine{name: "postgres", url: u.String(), close: func() error {
		defer admin.Close()
		_, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		return err
	}}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// prepare migrates the engine's database and creates the benchmark's
// merchant, returning its test secret key.
func (e *engine) prepare(ctx context.Context, paypage string) (string, error) {
	if _, err := run(ctx, nil, paypage, "migrate", "--database-url", e.url); err != nil {
		return "", err
	}
	out, err := run(ctx, nil, paypage, "merchant", "create", "--name", "Bench Shop", "--database-url", e.url)
	if err != nil {
		return "", err
	}
	var keys struct {
		TestSecretKey string `json:"test_secret_key"`
	}
	if err := json.Unmarshal(out, &keys); err != nil || keys.TestSecretKey == "" {
		return "", fmt.Errorf("merchant create printed %q: %v", out, err)
	}
	return keys.TestSecretKey, nil
}
