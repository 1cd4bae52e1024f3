// Package handlertest starts real paypage servers for tests of the HTTP
// layer: on a loopback port, over a fresh database, with a merchant and its
// keys. The handlers tests and the browser tests share it.
package handlertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Server is a real paypage server on a loopback port over a fresh
// database, with a merchant and its keys.
type Server struct {
	URL      string // http://127.0.0.1:PORT
	Store    *store.Store
	Merchant *store.Merchant
	Keys     store.Keys
}

// Start migrates the database at dbURL, creates a merchant and serves
// paypage until the test ends.
func Start(t testing.TB, dbURL string) *Server {
	t.Helper()
	return StartWith(t, dbURL, nil)
}

// StartWith is Start with the configuration adjusted by edit.
func StartWith(t testing.TB, dbURL string, edit func(*handlers.Config)) *Server {
	t.Helper()
	st := OpenStore(t, dbURL)
	m := &store.Merchant{Name: "Test Shop", AllowedOrigins: store.StringList{"http://127.0.0.2:9999"}, RecoveryEnabled: true}
	keys, err := st.CreateMerchant(context.Background(), m)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	ln := Listen(t)
	base := "http://" + ln.Addr().String()
	cfg := handlers.Config{BaseURL: base, Logger: Discard}
	if edit != nil {
		edit(&cfg)
	}
	Serve(t, handlers.New(st, cfg), ln)
	return &Server{URL: base, Store: st, Merchant: m, Keys: keys}
}

// Discard is the logger of test servers: their logs are not the tests'.
var Discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// OpenStore opens and migrates the database at dbURL, closed when t ends.
// A new SQLite database starts as a copy of one migrated once.
func OpenStore(t testing.TB, dbURL string) *store.Store {
	t.Helper()
	ctx := context.Background()
	storetest.Migrated(t, dbURL)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// Listen opens a listener on a free loopback port.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return ln
}

// Serve serves app on ln until t ends (before the store closes: cleanups
// run last registered first).
func Serve(t testing.TB, app *fiber.App, ln net.Listener) {
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
}

// Instance is one paypage process as cmd runs it: its own pool, a hub that
// listens on PostgreSQL, and its server, over a database that other
// instances may share. Its clock can be moved.
type Instance struct {
	URL   string
	Store *store.Store
	Hub   *store.Hub
	App   *fiber.App
	// Shift is added to the wall clock (nanoseconds), to bring expiry nearer.
	Shift *atomic.Int64
	// Frozen, when non-zero, is the unix second the clock stands at.
	Frozen *atomic.Int64
}

// StartInstance serves paypage over dbURL as cmd does, with the given
// stream heartbeat.
func StartInstance(t testing.TB, dbURL string, heartbeat time.Duration) *Instance {
	t.Helper()
	st := OpenStore(t, dbURL)
	shift, frozen := new(atomic.Int64), new(atomic.Int64)
	st.Now = func() time.Time {
		if f := frozen.Load(); f != 0 {
			return time.Unix(f, 0)
		}
		return time.Now().Add(time.Duration(shift.Load()))
	}
	hub := store.NewHub(st, Discard)
	if err := hub.Listen(context.Background()); err != nil {
		t.Fatalf("hub: %v", err)
	}
	t.Cleanup(func() { hub.Close() })
	ln := Listen(t)
	base := "http://" + ln.Addr().String()
	app := handlers.New(st, handlers.Config{BaseURL: base, Logger: Discard, Hub: hub, Heartbeat: heartbeat})
	Serve(t, app, ln)
	return &Instance{URL: base, Store: st, Hub: hub, App: app, Shift: shift, Frozen: frozen}
}
