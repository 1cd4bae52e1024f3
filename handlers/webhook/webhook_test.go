package webhook

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"github.com/paypage/paypage/store"
)

func TestForbiddenAddresses(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1":          "loopback",
		"127.255.0.9":        "loopback",
		"::1":                "loopback",
		"::ffff:127.0.0.1":   "loopback", // IPv4-mapped
		"::ffff:10.1.2.3":    "private",
		"10.0.0.1":           "private",
		"172.16.5.4":         "private",
		"172.31.255.255":     "private",
		"192.168.0.1":        "private",
		"fd00::1":            "private",
		"169.254.169.254":    "link-local (cloud metadata)",
		"fe80::1":            "link-local",
		"fe80::1%eth0":       "link-local",
		"100.64.0.1":         "carrier-grade NAT",
		"100.100.100.200":    "carrier-grade NAT", // a cloud's metadata service
		"224.0.0.1":          "multicast",
		"ff02::1":            "multicast",
		"0.0.0.0":            "unspecified",
		"::":                 "unspecified",
		"255.255.255.255":    "reserved",
		"64:ff9b::a00:1":     "private",  // NAT64 of 10.0.0.1
		"64:ff9b::7f00:1":    "loopback", // NAT64 of 127.0.0.1
		"2002:a00:1::1":      "private",  // 6to4 of 10.0.0.1
		"2001:0:4136:e378::": "reserved", // Teredo
		"::10.0.0.1":         "reserved", // IPv4-compatible
		"192.0.2.10":         "documentation",
		"8.8.8.8":            "",
		"93.184.215.14":      "",
		"172.32.0.1":         "",
		"2606:4700::1111":    "",
		"::ffff:8.8.8.8":     "",
		"64:ff9b::808:808":   "", // NAT64 of a public address
	} {
		if got := ForbiddenAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
		says         string
	}{
		{"https://8.8.8.8/hooks", false, true, ""},
		{"https://127.0.0.1/hooks", false, false, "loopback"},
		{"https://10.0.0.1/hooks", false, false, "private"},
		{"https://[::ffff:127.0.0.1]:8443/hooks", false, false, "loopback"},
		{"https://localhost/hooks", false, false, "loopback"}, // through the resolver
		{"https://no-such-host.invalid/hooks", false, false, "does not resolve"},
		{"https://127.0.0.1/hooks", true, true, ""},
		{"https://10.0.0.1/hooks", true, true, ""},
		{"http://10.0.0.1/hooks", true, false, "https"},
		{"http://8.8.8.8/hooks", false, false, "https"},
	} {
		err := CheckURL(ctx, tc.url, tc.allowPrivate)
		var se *store.Error
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s (allow private %v): %v", tc.url, tc.allowPrivate, err)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("%s (allow private %v): %v, want a refusal saying %q", tc.url, tc.allowPrivate, err, tc.says)
		case !tc.ok && (!errorAs(err, &se) || se.Param != "url" || se.Code != store.EINVALID):
			t.Errorf("%s: %v, want an invalid url", tc.url, err)
		}
	}
}

func errorAs(err error, se **store.Error) bool {
	e, ok := err.(*store.Error)
	*se = e
	return ok
}

// Stripe's own code verifies what SignatureHeader makes, with any of the
// secrets it was given.
func TestSignatureIsStripes(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1","object":"event"}`)
	now := time.Now()
	header := SignatureHeader(now, body, "whsec_new", "whsec_old")
	if !strings.HasPrefix(header, "t="+strconv.FormatInt(now.Unix(), 10)+",v1=") || strings.Count(header, ",v1=") != 2 {
		t.Fatalf("header %q", header)
	}
	want := "v1=" + hex.EncodeToString(stripewebhook.ComputeSignature(now, body, "whsec_new"))
	if !strings.Contains(header, want) {
		t.Fatalf("header %q lacks Stripe's own signature %s", header, want)
	}
	for _, secret := range []string{"whsec_new", "whsec_old"} {
		if err := stripewebhook.ValidatePayload(body, header, secret); err != nil {
			t.Errorf("%s: %v", secret, err)
		}
	}
	if err := stripewebhook.ValidatePayload(body, header, "whsec_other"); err == nil {
		t.Error("another secret verified it")
	}
	if err := stripewebhook.ValidatePayload(append(body, ' '), header, "whsec_new"); err == nil {
		t.Error("a changed body verified")
	}
}

// delivery is an event of a paid session, on its way to url.
func delivery(t *testing.T, url string) *store.Delivery {
	t.Helper()
	snap, _ := json.Marshal(store.Session{ID: "cs_test_1", Status: store.StatusComplete, PaymentStatus: store.PaymentPaid, Version: 3})
	return &store.Delivery{
		Event: &store.WebhookEvent{ID: "evt_1", Type: store.EventSessionCompleted, SessionID: "cs_test_1", SessionVersion: 3,
			Snapshot: snap, Created: time.Now().Unix(), RequestID: "req_1", PendingWebhooks: 1},
		Endpoint: &store.WebhookEndpoint{ID: "we_1", URL: url, Secret: "whsec_test", APIVersion: stripe.APIVersion},
		Attempt:  1,
	}
}

func present(_ string, s *store.Session) (any, error) {
	return map[string]any{"id": s.ID, "object": "checkout.session", "status": s.Status, "version": s.Version}, nil
}

// tlsWorker is a worker (without a store: attempts only) that trusts srv.
func tlsWorker(srv *httptest.Server, timeout time.Duration) *Worker {
	cfg := Config{Present: present, AllowPrivate: true, Timeout: timeout, Batch: 1}
	cfg.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return &Worker{cfg: cfg, client: newClient(cfg)}
}

func TestAnAttemptIsStripesEventSignedAndTimed(t *testing.T) {
	t.Parallel()
	var got atomic.Pointer[http.Request]
	var body atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1<<16)
		n, _ := r.Body.Read(b)
		body.Store(b[:n])
		got.Store(r)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := tlsWorker(srv, time.Second)
	result, status, errText := w.attempt(delivery(t, srv.URL+"/hooks"), time.Now())
	if result != ResultSucceeded || status != 204 || errText != "" {
		t.Fatalf("attempt: %s %d %q", result, status, errText)
	}
	r := got.Load()
	ev, err := stripewebhook.ConstructEvent(body.Load().([]byte), r.Header.Get("Stripe-Signature"), "whsec_test")
	if err != nil {
		t.Fatalf("ConstructEvent: %v", err)
	}
	if ev.ID != "evt_1" || ev.Type != "checkout.session.completed" || ev.Data.Object["version"] != float64(3) ||
		ev.Request.ID != "req_1" || ev.PendingWebhooks != 1 || r.Header.Get(HeaderSessionVersion) != "3" ||
		r.Header.Get(HeaderEventID) != "evt_1" || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("delivered %+v with headers %v", ev, r.Header)
	}
}

func TestFailedAttempts(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	// Handlers that hang stop when the client goes (the server notices
	// once it has read the body) or when the test ends.
	done := make(chan struct{})
	hang := func(r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Store(true) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { hang(r) })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		hang(r)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// An endless answer: only its start is read.
		chunk := []byte(strings.Repeat("x", 1<<16))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	defer close(done) // before the servers close: they wait for their handlers
	w := tlsWorker(srv, 300*time.Millisecond)
	for _, tc := range []struct {
		url, result string
		status      int
		says        string
	}{
		{srv.URL + "/error", ResultStatus, 500, "HTTP 500"},
		{srv.URL + "/redirect", ResultStatus, 302, "redirects are not followed"},
		{srv.URL + "/slow", ResultTimeout, 0, "no answer within"},
		{srv.URL + "/slow-body", ResultTimeout, 200, "longer than"},
		{srv.URL + "/huge", ResultSucceeded, 200, ""},
		{"https" + strings.TrimPrefix(plain.URL, "http") + "/error", ResultError, 0, "HTTPS"}, // no TLS there
	} {
		start := time.Now()
		result, status, errText := w.attempt(delivery(t, tc.url), time.Now())
		if result != tc.result || status != tc.status || !strings.Contains(errText, tc.says) {
			t.Errorf("%s: %s %d %q, want %s %d saying %q", tc.url, result, status, errText, tc.result, tc.status, tc.says)
		}
		if strings.Contains(errText, "/error") || strings.Contains(errText, "/slow") {
			t.Errorf("%s: the error %q repeats the URL", tc.url, errText)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", tc.url, d)
		}
	}
	if followed.Load() {
		t.Error("a redirect was followed")
	}

	// Without the private-address allowance, the same server is refused
	// at connection, before a byte is sent.
	strict := w.cfg
	strict.AllowPrivate = false
	sw := &Worker{cfg: strict, client: newClient(strict)}
	if result, _, errText := sw.attempt(delivery(t, srv.URL+"/error"), time.Now()); result != ResultRefused || !strings.Contains(errText, "loopback") {
		t.Errorf("to loopback without the allowance: %s %q", result, errText)
	}
}
