package store

import (
	"os"
	"path/filepath"
	"testing"
)

// Two processes that reach one database by different paths (one through a
// symbolic link) share one admin generation, as SQLite shares the database.
func TestAdminGenerationIsSharedThroughSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "data", "paypage.db")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "paypage.db")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	server, err := openAdminGen(link)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := openAdminGen(real)
	if err != nil {
		t.Fatal(err)
	}
	before := server.load()
	cli.move()
	if server.load() != before+1 {
		t.Fatalf("a move through %s was not seen through %s", real, link)
	}
	if _, err := os.Stat(link + adminGenSuffix); !os.IsNotExist(err) {
		t.Fatalf("a second counter file beside the link: %v", err)
	}
	// Closing stops moves but leaves the memory readable.
	cli.close()
	cli.move()
	if cli.load() != before+1 || server.load() != before+1 {
		t.Fatal("a closed generation moved")
	}
}
