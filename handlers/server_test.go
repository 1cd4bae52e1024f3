package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testServer is a real paypage server on a loopback port over a fresh
// database, with a merchant and its keys.
type testServer struct {
	URL      string // http://127.0.0.1:PORT
	Store    *store.Store
	Merchant *store.Merchant
	Keys     store.Keys
}

// startServer migrates the database at dbURL, creates a merchant and serves
// paypage until the test ends.
func startServer(t *testing.T, dbURL string) *testServer {
	t.Helper()
	return startServerWith(t, dbURL, nil)
}

// startServerWith is startServer with the configuration adjusted by edit.
func startServerWith(t *testing.T, dbURL string, edit func(*handlers.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	m := &store.Merchant{Name: "Test Shop", AllowedOrigins: store.StringList{"http://127.0.0.2:9999"}, RecoveryEnabled: true}
	keys, err := st.CreateMerchant(ctx, m)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	cfg := handlers.Config{BaseURL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg)
	}
	app := handlers.New(st, cfg)
	go app.Listener(ln)
	t.Cleanup(func() {
		app.ShutdownWithTimeout(5 * time.Second)
		st.Close()
	})
	return &testServer{URL: base, Store: st, Merchant: m, Keys: keys}
}
