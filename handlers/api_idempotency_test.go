package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestAPIIdempotencyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)

		first := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "k-1")
		again := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "k-1")
		if first.Status != 200 || again.Status != 200 || string(first.Raw) != string(again.Raw) {
			t.Fatalf("replay differs:\n%d %s\n%d %s", first.Status, first.Raw, again.Status, again.Raw)
		}
		if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" ||
			again.Header.Get("Idempotency-Key") != "k-1" || first.JSON["idempotency_key"] != "k-1" {
			t.Fatalf("headers: first %v, replay %v", first.Header, again.Header)
		}

		// Another body under the same key is refused; so is another endpoint.
		other := api.do("POST", "/v1/checkout/sessions", strings.Replace(oneItem, `"quantity":2`, `"quantity":3`, 1), "Idempotency-Key", "k-1")
		if e := other.err(); other.Status != 400 || e["type"] != "idempotency_error" || e["code"] != "idempotency_key_in_use" {
			t.Fatalf("same key, other body: %d %s", other.Status, other.Raw)
		}
		id := first.JSON["id"].(string)
		if r := api.do("POST", "/v1/checkout/sessions/"+id+"/expire", "", "Idempotency-Key", "k-1"); r.Status != 400 || r.err()["type"] != "idempotency_error" {
			t.Fatalf("same key, other endpoint: %d %s", r.Status, r.Raw)
		}

		// Keys are scoped to the merchant and mode: the same key elsewhere is new.
		otherKeys, err := srv.Store.CreateMerchant(context.Background(), &store.Merchant{Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{otherKeys.Test, srv.Keys.Live} {
			r := api.with(key).do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "k-1")
			if r.Status != 200 || r.JSON["id"] == id || r.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("same key under another key: %d %s", r.Status, r.Raw)
			}
		}

		// Refused parameters are not remembered: the corrected request may
		// reuse the key.
		bad := api.do("POST", "/v1/checkout/sessions", strings.Replace(oneItem, `"eur"`, `"zzz"`, 1), "Idempotency-Key", "k-2")
		fixed := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "k-2")
		if bad.Status != 400 || fixed.Status != 200 || fixed.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("after a refused request: %d, then %d %s", bad.Status, fixed.Status, fixed.Raw)
		}

		// A request that ran and was refused for the session's state is
		// replayed like a success.
		exp1 := api.do("POST", "/v1/checkout/sessions/"+id+"/expire", "", "Idempotency-Key", "x-1")
		exp2 := api.do("POST", "/v1/checkout/sessions/"+id+"/expire", "", "Idempotency-Key", "x-2")
		exp3 := api.do("POST", "/v1/checkout/sessions/"+id+"/expire", "", "Idempotency-Key", "x-2")
		if exp1.Status != 200 || exp2.Status != 400 || exp3.Status != 400 || string(exp2.Raw) != string(exp3.Raw) ||
			exp3.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("expire replays: %d, %d %s, %d %s", exp1.Status, exp2.Status, exp2.Raw, exp3.Status, exp3.Raw)
		}

		long := strings.Repeat("k", 256)
		if r := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", long); r.Status != 400 || r.err()["param"] != "Idempotency-Key" {
			t.Fatalf("256-character key: %d %s", r.Status, r.Raw)
		}
		if r := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", long[:255]); r.Status != 200 {
			t.Fatalf("255-character key: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAPIIdempotencyKeysLast24Hours(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		start := time.Now()
		var mu sync.Mutex
		now := start
		srv.Store.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
		api := newAPIClient(t, srv, srv.Keys.Test)

		first := api.mustOK("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "daily")
		setNow(start.Add(23 * time.Hour))
		if r := api.do("POST", "/v1/checkout/sessions", oneItem, "Idempotency-Key", "daily"); r.JSON["id"] != first["id"] {
			t.Fatalf("after 23 hours the key was forgotten: %s", r.Raw)
		}
		setNow(start.Add(24*time.Hour + time.Second))
		if n, err := srv.Store.PruneIdempotency(context.Background()); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		again := api.do("POST", "/v1/checkout/sessions", strings.Replace(oneItem, `"quantity":2`, `"quantity":5`, 1), "Idempotency-Key", "daily")
		if again.Status != 200 || again.JSON["id"] == first["id"] || again.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("after 24 hours: %d %s", again.Status, again.Raw)
		}
	})
}

func TestAPIConcurrentDuplicatesCreateOneSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		const n = 12
		for round, body := range []string{oneItem, strings.Replace(oneItem, `"quantity":2`, `"quantity":4`, 1)} {
			key := "burst-" + string(rune('a'+round))
			results := make([]apiResponse, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = api.do("POST", "/v1/checkout/sessions", body, "Idempotency-Key", key)
				})
			}
			close(start)
			wg.Wait()
			var created, replayed, conflicts int
			ids := map[any]bool{}
			for _, r := range results {
				switch {
				case r.Status == 200 && r.Header.Get("Idempotent-Replayed") == "true":
					replayed++
					ids[r.JSON["id"]] = true
				case r.Status == 200:
					created++
					ids[r.JSON["id"]] = true
				case r.Status == 409 && r.err()["code"] == "idempotency_key_in_use":
					conflicts++
				default:
					t.Fatalf("unexpected answer: %d %s", r.Status, r.Raw)
				}
			}
			if created != 1 || len(ids) != 1 || created+replayed+conflicts != n {
				t.Fatalf("%d concurrent duplicates: %d created, %d replayed, %d conflicts, ids %v", n, created, replayed, conflicts, ids)
			}
			var rows int
			if err := srv.Store.DB().Get(&rows, srv.Store.DB().Rebind(`SELECT COUNT(*) FROM checkout_sessions WHERE idempotency_key = ?`), key); err != nil || rows != 1 {
				t.Fatalf("%d sessions stored for key %s (err %v)", rows, key, err)
			}
		}
	})
}

// A keyed create renders its answer from the session as built, inside the
// transaction that stores it (store.CreateSessionIdempotent): it must say
// exactly what a read of the stored session says, in every dialect.
func TestAPIKeyedCreateAnswersAsTheStoredSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		body := `{"currency":"eur","line_items":[{"quantity":2,"price_data":{"unit_amount":1250,"product_data":{"name":"Mug","description":"Blue"}}},` +
			`{"quantity":1,"price_data":{"unit_amount":300,"recurring":{"interval":"month"},"product_data":{"name":"Beans"}}}],` +
			`"metadata":{"order":"7"},"expand":[%s],"success_url":"https://shop.example/ok"}`
		for _, tc := range []struct {
			name   string
			header []string
			expand []string
		}{
			{"native", nil, []string{"line_items", "child_sessions"}},
			{"stripe", []string{"Stripe-Version", stripeVersion}, []string{"line_items"}},
		} {
			quoted := `"` + strings.Join(tc.expand, `","`) + `"`
			created := api.do("POST", "/v1/checkout/sessions", fmt.Sprintf(body, quoted), append([]string{"Idempotency-Key", "as-stored-" + tc.name}, tc.header...)...)
			if created.Status != 200 {
				t.Fatalf("create %s: %d %s", tc.name, created.Status, created.Raw)
			}
			query := "?expand[]=" + strings.Join(tc.expand, "&expand[]=")
			read := api.do("GET", "/v1/checkout/sessions/"+created.JSON["id"].(string)+query, "", tc.header...)
			if string(read.Raw) != string(created.Raw) || !strings.Contains(string(read.Raw), "Beans") {
				t.Fatalf("%s: the create answered\n%s\nbut the session reads\n%s", tc.name, created.Raw, read.Raw)
			}
		}
	})
}
