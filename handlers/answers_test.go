package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Refusals that happen before any handler runs — a body too large (413),
// headers too large (431), a compressed body (415) — carry the security
// headers and a request id like every other answer.
func TestEarlyRefusalsCarryTheSecurityHeadersAndAnID(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	// The body too large is announced, not sent: the server answers from
	// the header and closes, and a client still writing 2 MiB may meet a
	// reset before it reads the answer.
	big := "POST /v1/checkout/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(2<<20) + "\r\n\r\n"
	headers := "GET /pay/cs_test_x HTTP/1.1\r\nHost: x\r\nX-Padding: " + strings.Repeat("x", 16<<10) + "\r\n\r\n"
	zipped := "POST /v1/checkout/sessions HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx"
	for _, tc := range []struct {
		path, req string
		status    int
	}{{"/v1/checkout/sessions", big, 413}, {"/pay/cs_test_x", headers, 431}, {"/v1/checkout/sessions", zipped, 415}} {
		status, h, body := rawExchange(t, srv.URL, tc.req)
		if status != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, status, tc.status)
			continue
		}
		id := h.Get("Request-Id")
		if !strings.HasPrefix(id, "req_") {
			t.Errorf("%d: Request-Id %q", status, id)
		}
		for _, name := range []string{"Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
			if h.Get(name) == "" {
				t.Errorf("%d: no %s", status, name)
			}
		}
		if strings.HasPrefix(tc.path, "/v1/") && !strings.Contains(body, `"request_id":"`+id+`"`) {
			t.Errorf("%d: body %s does not carry the request id %s", status, body, id)
		}
	}
}

// API answers hold customers' data: no cache may keep them.
func TestAPIAnswersAreNotStored(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	api := newAPIClient(t, srv, srv.Keys.Test)
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Currency: "eur", CustomerEmail: "ada@example.com",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: ptr(int64(100)),
			ProductData: &store.ProductData{Name: "Tea"}}}}})
	for _, path := range []string{"/v1/checkout/sessions/" + sess.ID, "/v1/checkout/sessions", "/v1/checkout/sessions/" + sess.ID + "/line_items", "/v1/checkout/sessions/cs_test_none"} {
		if r := api.do("GET", path, ""); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want no-store", path, r.Status, r.Header.Get("Cache-Control"))
		}
	}
}

// The seed systems' answers hold customers' data too, on paths of their own.
func TestSeedAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{CustomerEmail: "ada@example.com"})
	bearer := []string{"Authorization", "Bearer " + srv.Keys.Test}
	for _, tc := range []struct {
		path    string
		headers []string
	}{
		{"/checkout/" + sess.ID, []string{"x-api-key", srv.Keys.Test, "organisation", srv.Merchant.ID}},
		{"/checkout/cs_test_none", []string{"x-api-key", srv.Keys.Test, "organisation", srv.Merchant.ID}},
		{"/api/v1/sessions/" + sess.ID, bearer},
		{"/api/v1/sessions/cs_test_none", bearer},
		{"/api/v1/nowhere", bearer},
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want no-store", tc.path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

// lineLog keeps what a test server logs, line by line.
type lineLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineLog) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), substr)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// A client over its rate limit may send thousands of requests a second: a
// log line for each would flood the log.
func TestRateLimitedRequestsAreNotLoggedOneByOne(t *testing.T) {
	logs := &lineLog{}
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(c *handlers.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		c.APIRate, c.APIBurst = 1, 1
	})
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}}
	limited := 0
	for range 200 {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/v1/checkout/sessions", nil)
		req.SetBasicAuth(srv.Keys.Test, "")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 429 {
			limited++
		}
	}
	if limited < 190 {
		t.Fatalf("%d of 200 requests limited", limited)
	}
	if n := logs.count("status=429"); n != 0 {
		t.Errorf("%d request lines logged for 429s", n)
	}
	if n := logs.count("rate limit"); n != 1 {
		t.Errorf("%d summary lines for %d 429s in a second, want 1:\n%s", n, limited, logs)
	}
}
