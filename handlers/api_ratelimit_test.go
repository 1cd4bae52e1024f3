package handlers_test

import (
	"strconv"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store/storetest"
)

// startLimitedServer is handlertest.Start with a small API rate limit.
func startLimitedServer(t *testing.T, rate float64, burst int) *handlertest.Server {
	t.Helper()
	return handlertest.StartWith(t, storetest.SQLiteURL(t), func(c *handlers.Config) {
		c.APIRate, c.APIBurst = rate, burst
	})
}

func TestAPIRateLimitPerKey(t *testing.T) {
	t.Parallel()
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
