package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// SIGTERM in the middle of a load of session creations: every request the
// server accepted is answered in full, every session answered 200 exists,
// and nothing was processed for a request that got no answer. Requests
// after the listener closed are refused at connect, which a client sees as
// not sent (and may retry elsewhere with its Idempotency-Key).
func TestSIGTERMUnderLoadLosesNoAcceptedRequest(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		out, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Busy Shop")
		if err != nil {
			t.Fatalf("merchant create: %v", err)
		}
		var keys map[string]string
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		srv := exec.Command(binary(t), "serve", "--database-url", dbURL, "--addr", addr, "--no-migrate")
		srv.Dir = t.TempDir()
		srv.Env = append(srv.Environ(), "PAYPAGE_API_RATE=100000", "PAYPAGE_API_BURST=100000")
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer srv.Process.Kill()
		base := "http://" + addr
		waitHealthy(t, base)

		type result struct {
			key    string
			status int
			id     string
			err    error
		}
		var (
			mu      sync.Mutex
			results []result
			wg      sync.WaitGroup
			ok      = make(chan struct{}, 1000)
		)
		// A new connection per request: once the listener is closed, a
		// request is refused at connect, never half-sent.
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		body := "line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=100" +
			"&line_items[0][price_data][product_data][name]=Tea"
		for w := range 8 {
			wg.Go(func() {
				refusedInARow := 0
				for i := 0; refusedInARow < 3; i++ {
					key := fmt.Sprintf("w%d-%d", w, i)
					req, _ := http.NewRequest("POST", base+"/v1/checkout/sessions", strings.NewReader(body))
					req.SetBasicAuth(keys["test_secret_key"], "")
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Idempotency-Key", key)
					r := result{key: key}
					resp, err := client.Do(req)
					if err == nil {
						var o struct{ ID string }
						b, rerr := io.ReadAll(resp.Body)
						resp.Body.Close()
						r.status, r.err = resp.StatusCode, rerr
						json.Unmarshal(b, &o)
						r.id = o.ID
					} else {
						r.err = err
					}
					if errors.Is(err, syscall.ECONNREFUSED) {
						refusedInARow++
					} else {
						refusedInARow = 0
					}
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
					if r.status == 200 {
						select {
						case ok <- struct{}{}:
						default:
						}
					}
				}
			})
		}
		for range 50 { // under load: 50 sessions created before the signal
			<-ok
		}
		if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- srv.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("serve exited with %v after SIGTERM", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30 s of SIGTERM")
		}
		wg.Wait()

		st, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var answered, refused, unanswered int
		for _, r := range results {
			var stored int
			if err := st.DB().Get(&stored, st.DB().Rebind(`SELECT COUNT(*) FROM checkout_sessions WHERE idempotency_key = ?`), r.key); err != nil {
				t.Fatal(err)
			}
			switch {
			case r.err == nil && r.status == 200:
				answered++
				if stored != 1 || r.id == "" {
					t.Errorf("%s: answered 200 (%s) but %d sessions stored", r.key, r.id, stored)
				}
			case r.err == nil:
				t.Errorf("%s: answered %d during the drain", r.key, r.status)
			case errors.Is(r.err, syscall.ECONNREFUSED):
				refused++
				if stored != 0 {
					t.Errorf("%s: refused at connect, yet %d sessions stored", r.key, stored)
				}
			default:
				// Reset before an answer: accepted by the kernel, never read by
				// the server. It must not have been processed.
				unanswered++
				if stored != 0 {
					t.Errorf("%s: no answer (%v), yet its session was stored: an accepted request was lost", r.key, r.err)
				}
			}
		}
		t.Logf("%d requests: %d answered 200, %d refused at connect after the listener closed, %d reset unread",
			len(results), answered, refused, unanswered)
		if refused == 0 {
			t.Error("no request met the closed listener: the load ended before the shutdown")
		}
	})
}
