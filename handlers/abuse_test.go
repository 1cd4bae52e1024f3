package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestCompressedBodiesAreRefused(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(bytes.Repeat([]byte("0"), 10<<20)) // 10 MiB inflated
	zw.Close()
	for _, path := range []string{"/v1/checkout/sessions", "/v1/payment_events", "/locale"} {
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(zipped.Bytes()))
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(srv.Keys.Test, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("POST %s with a gzip body: %d, want 415", path, resp.StatusCode)
		}
	}
}

func TestFailedAuthenticationsAreBudgetedPerClient(t *testing.T) {
	t.Parallel()
	// The budget refills once a second: the clock stands still, so that a
	// slow machine does not refill it between the requests.
	stopped := time.Now()
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(c *handlers.Config) {
		c.Now = func() time.Time { return stopped }
	})
	statuses := map[int]int{}
	api := newAPIClient(t, srv, "")
	for i := range 25 {
		// A new made-up key each time: per-key buckets alone never run dry.
		statuses[api.with("sk_test_madeup"+strings.Repeat("x", i)).do("GET", "/v1/checkout/sessions", "").Status]++
	}
	if statuses[401] != 20 || statuses[429] != 5 {
		t.Fatalf("25 made-up keys: %v, want 20×401 then 5×429", statuses)
	}
	// Forged webhook signatures draw on the same budget.
	req, _ := http.NewRequest("POST", srv.URL+"/v1/payment_events", strings.NewReader(`{}`))
	req.Header.Set("Paypage-Signature", "t=1,v1="+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("signed event from a client out of budget: %d (Retry-After %q)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestLiveStreamsAreCappedPerClient(t *testing.T) {
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(c *handlers.Config) {
		c.MaxStreamsPerClient = 2
		c.Heartbeat = 50 * time.Millisecond // a client that left is noticed on the next write
	})
	unit := int64(100)
	sess, err := srv.Store.CreateSession(context.Background(), srv.Merchant, false, &store.SessionParams{Currency: "eur",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "Tea"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	open := func() *http.Response {
		resp, err := http.Get(srv.URL + "/pay/" + sess.ID + "/events")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var streams []*http.Response
	for range 2 {
		resp := open()
		if resp.StatusCode != 200 {
			t.Fatalf("stream within the cap: %d", resp.StatusCode)
		}
		bufio.NewReader(resp.Body).ReadString('\n') // the stream is running
		streams = append(streams, resp)
	}
	over := open()
	over.Body.Close()
	if over.StatusCode != http.StatusServiceUnavailable || over.Header.Get("Retry-After") == "" {
		t.Fatalf("stream over the cap: %d (Retry-After %q), want 503", over.StatusCode, over.Header.Get("Retry-After"))
	}
	// A client that leaves frees its slot.
	streams[0].Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := open()
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot of a client that left was not freed: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	streams[1].Body.Close()
}
