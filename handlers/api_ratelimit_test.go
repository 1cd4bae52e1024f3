package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// startLimitedServer is startServer with a small API rate limit.
func startLimitedServer(t *testing.T, rate float64, burst int) *testServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	m := &store.Merchant{Name: "Busy Shop"}
	keys, err := st.CreateMerchant(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	app := handlers.New(st, handlers.Config{BaseURL: base, APIRate: rate, APIBurst: burst,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go app.Listener(ln)
	t.Cleanup(func() {
		app.ShutdownWithTimeout(5 * time.Second)
		st.Close()
	})
	return &testServer{URL: base, Store: st, Merchant: m, Keys: keys}
}

func TestAPIRateLimitPerKey(t *testing.T) {
	// A burst of 3, then one request every 100 s: the test never waits.
	srv := startLimitedServer(t, 0.01, 3)
	api := newAPIClient(t, srv, srv.Keys.Test)
	for i := range 3 {
		if r := api.do("GET", "/v1/checkout/sessions", ""); r.Status != 200 {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := api.do("GET", "/v1/checkout/sessions", "")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if e := r.err(); r.Status != 429 || e["code"] != "rate_limit" || e["type"] != "invalid_request_error" ||
		err != nil || retry < 90 || retry > 100 {
		t.Fatalf("over the burst: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
	}
	// The budget is the key's: the same merchant's live key has its own.
	if r := api.with(srv.Keys.Live).do("GET", "/v1/checkout/sessions", ""); r.Status != 200 {
		t.Fatalf("another key was limited too: %d %s", r.Status, r.Raw)
	}
	// The document needs no key and no budget.
	for range 5 {
		if r := api.with("").do("GET", "/v1/openapi.json", ""); r.Status != 200 {
			t.Fatalf("openapi.json: %d", r.Status)
		}
	}
}
