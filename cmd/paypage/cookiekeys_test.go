package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCookieKeys(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "paypage.db")

	t.Setenv("PAYPAGE_COOKIE_KEYS", "")
	first, err := cookieKeys(dbURL, log)
	if err != nil || len(first) != 2 || len(first[0]) != 64 || len(first[1]) != 32 {
		t.Fatalf("generated keys: %d pairs, %v", len(first)/2, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cookie-keys"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v %v", fi, err)
	}
	again, _ := cookieKeys(dbURL, log)
	if !bytes.Equal(first[0], again[0]) || !bytes.Equal(first[1], again[1]) {
		t.Error("a restart made new keys instead of reading the file")
	}

	newer, older := strings.Repeat("n", 40), strings.Repeat("o", 40)
	t.Setenv("PAYPAGE_COOKIE_KEYS", newer+", "+older)
	rotated, err := cookieKeys(dbURL, log)
	if err != nil || len(rotated) != 4 || bytes.Equal(rotated[0], rotated[2]) {
		t.Fatalf("rotation: %d keys, %v", len(rotated), err)
	}
	t.Setenv("PAYPAGE_COOKIE_KEYS", "short")
	if _, err := cookieKeys(dbURL, log); err == nil {
		t.Error("a short key was accepted")
	}
}
