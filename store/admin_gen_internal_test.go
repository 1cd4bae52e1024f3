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

// A counter file deleted while a server runs, and made anew by a command,
// is found by the server's watch: it maps the new file and its generation
// moves, so that nothing its caches read before is used again.
func TestAdminGenerationFollowsAReplacedFile(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "paypage.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	server, err := openAdminGen(db)
	if err != nil {
		t.Fatal(err)
	}
	defer server.close()
	server.move()
	before := server.load()
	if err := os.Remove(db + adminGenSuffix); err != nil {
		t.Fatal(err)
	}
	cli, err := openAdminGen(db) // a new file under the old name
	if err != nil {
		t.Fatal(err)
	}
	defer cli.close()
	server.check() // what its watch does every adminGenCheck
	if server.load() == before {
		t.Fatal("the server's generation did not move when its file was replaced")
	}
	now := server.load()
	cli.move()
	if server.load() != now+1 {
		t.Fatal("a move in the new file did not reach the server")
	}
	server.check()
	if server.load() != now+1 {
		t.Fatal("the same file was taken for a new one")
	}
}
