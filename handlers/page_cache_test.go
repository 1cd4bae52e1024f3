package handlers_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// A session's page and its /status shown again are served without a read
// of the database (on PostgreSQL, with two instances, after one sync
// statement each, which proves nothing changed on the other meanwhile); a
// change shows at once, through the same instance or another one.
func TestRepeatedPagesAndStatusDoNotReadTheDatabase(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		a := handlertest.StartInstance(t, dbURL, time.Second)
		b := a
		if a.Store.Engine() == store.Postgres {
			b = handlertest.StartInstance(t, dbURL, time.Second) // another instance on the same database
		}
		m, keys := handlertest.Merchant(t, a.Store)
		sess := handlertest.MugSession(t, a.Store, m, nil)
		page, status := b.URL+"/pay/"+sess.ID, b.URL+"/pay/"+sess.ID+"/status"
		for _, u := range []string{page, page, status} { // the first two may read: the cache fills
			if p := getPage(t, u); p.resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", u, p.resp.StatusCode)
			}
		}
		_, hits, misses := b.Hub.Cache().CacheStats()
		syncs := b.Hub.Syncs()
		for range 3 {
			if p := getPage(t, page); p.main("data-status") != "open" {
				t.Fatalf("status on the page %q, want open", p.main("data-status"))
			}
			if p := getPage(t, status); p.resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", status, p.resp.StatusCode)
			}
		}
		wantSyncs := int64(0)
		if b.Store.Engine() == store.Postgres {
			wantSyncs = 6 // two instances, no lease: one sync per request
		}
		_, hitsAfter, missesAfter := b.Hub.Cache().CacheStats()
		if hitsAfter-hits != 6 || missesAfter != misses || b.Hub.Syncs()-syncs != wantSyncs {
			t.Fatalf("3 pages and 3 /status: %d hits, %d misses, %d syncs; want 6 hits (no read) and %d syncs",
				hitsAfter-hits, missesAfter-misses, b.Hub.Syncs()-syncs, wantSyncs)
		}

		for i, ev := range []map[string]any{
			{"type": "payment.failed", "failure_reason": "card_declined"},
			{"type": "payment.succeeded"},
		} {
			ev["id"], ev["session"] = "evt_cache_"+string(rune('a'+i)), sess.ID
			if code, resp := a.PostEvent(t, keys.Test, ev); code != http.StatusOK {
				t.Fatalf("event: %d %v", code, resp)
			}
			want, err := a.Store.Session(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p := getPage(t, page); p.main("data-payment-status") != want.PaymentStatus {
				t.Fatalf("after %s the page shows %q, want %q", ev["type"], p.main("data-payment-status"), want.PaymentStatus)
			}
			if p := getPage(t, status); p.resp.Header.Get("ETag") != `W/"v`+strconv.FormatInt(want.Version, 10)+"-"+want.Status+`"` {
				t.Fatalf("after %s /status has ETag %s, want version %d %s", ev["type"], p.resp.Header.Get("ETag"), want.Version, want.Status)
			}
		}
	})
}
