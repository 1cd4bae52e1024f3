package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// minCookieSecret is the shortest secret accepted in PAYPAGE_COOKIE_KEYS.
const minCookieSecret = 32

// cookieKeys returns the shopper cookie's key pairs, newest first: from
// PAYPAGE_COOKIE_KEYS (comma-separated secrets, newest first; keep an old
// one listed after the new one while cookies signed with it may still be
// out there), else from the file cookie-keys in the data directory, which is
// generated on the first start and has the same format.
func cookieKeys(dbURL string, log *slog.Logger) ([][]byte, error) {
	raw := getenv("PAYPAGE_COOKIE_KEYS")
	source := "PAYPAGE_COOKIE_KEYS"
	if raw == "" {
		path := filepath.Join(dataDir(dbURL), "cookie-keys")
		source = path
		var err error
		if raw, err = readOrCreateSecret(path); err != nil {
			return nil, fmt.Errorf("cookie keys: %w", err)
		}
		if !strings.HasPrefix(dbURL, "sqlite:") && strings.Contains(dbURL, "://") {
			log.Warn("cookie keys come from a local file; set PAYPAGE_COOKIE_KEYS so that every instance sharing the database shares them", "file", path)
		}
	}
	var pairs [][]byte
	for _, secret := range splitList(raw) {
		if len(secret) < minCookieSecret {
			return nil, fmt.Errorf("cookie keys (%s): each key must be at least %d characters", source, minCookieSecret)
		}
		pairs = append(pairs, derive(sha512.New, secret, "paypage cookie hash key"), derive(sha256.New, secret, "paypage cookie block key"))
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("cookie keys (%s): no key given", source)
	}
	return pairs, nil
}

// derive makes one key from a secret: securecookie wants a 64-byte HMAC key
// and a 32-byte AES key, and each secret gives both.
func derive(h func() hash.Hash, secret, label string) []byte {
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}

// readOrCreateSecret reads the secrets file, or creates it with one random
// secret, readable only by its owner.
func readOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readOrCreateSecret(path) // another process made it first
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(secret), nil
}

// dataDir is where paypage keeps its files: the SQLite database's directory,
// or ./data.
func dataDir(dbURL string) string {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		return "data"
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
	return filepath.Dir(path)
}
