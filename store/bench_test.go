package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// BenchmarkSessionRead measures the page's hot path (one session with its
// line items, fees and refunds) on each engine, and on PostgreSQL with
// lib/pq's default two-round-trip parameterised queries beside the
// binary_parameters mode paypage uses, so the ratio is measured in one run.
func BenchmarkSessionRead(b *testing.B) {
	pg := storetest.PostgresURL(b)
	sep := "?"
	if strings.Contains(pg, "?") {
		sep = "&"
	}
	for _, e := range []struct{ name, url string }{
		{"sqlite", storetest.SQLiteURL(b)},
		{"postgres", pg},
		{"postgres-two-round-trips", pg + sep + "binary_parameters=no"},
	} {
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			st, m := benchStore(b, e.url)
			unit := int64(500)
			sess, err := st.CreateSession(ctx, m, false, &store.SessionParams{Currency: "eur",
				LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{
					UnitAmount: &unit, ProductData: &store.ProductData{Name: "Tea"}}}},
				Fees: []store.AdjustmentParams{{Type: "shipping", Label: "Post", Amount: 100}}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Session(ctx, sess.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateSession measures a create with and without an
// idempotency key on each engine, one after the other (make bench's
// harness measures them under load): the keyed one's extra work is the
// key's lookup and its recorded answer, in the same transaction.
func BenchmarkCreateSession(b *testing.B) {
	for _, e := range []struct{ name, url string }{
		{"sqlite", storetest.SQLiteURL(b)},
		{"postgres", storetest.PostgresURL(b)},
	} {
		ctx := context.Background()
		st, m := benchStore(b, e.url)
		params := func(key string) *store.SessionParams {
			unit := int64(500)
			p := &store.SessionParams{Currency: "eur", IdempotencyKey: key, CancelURL: "https://shop.example/cart"}
			for _, name := range []string{"Tea", "Mug", "Spoon"} {
				p.LineItems = append(p.LineItems, store.LineItemParams{Quantity: 1, PriceData: &store.PriceData{
					UnitAmount: &unit, ProductData: &store.ProductData{Name: name}}})
			}
			return p
		}
		answer := func(sess *store.Session, _ bool) (int, string, error) {
			return 200, `{"id":"` + sess.ID + `","object":"checkout.session"}` + strings.Repeat(" ", 3000), nil
		}
		b.Run(e.name+"/plain", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.CreateSession(ctx, m, false, params("")); err != nil {
					b.Fatal(err)
				}
			}
		})
		n := 0
		b.Run(e.name+"/keyed", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n++
				key := e.name + "-" + strconv.Itoa(n)
				if prior, err := st.CreateSessionIdempotent(ctx, m, false, params(key), "hash", answer); err != nil || prior != nil {
					b.Fatal(err, prior)
				}
			}
		})
	}
}

// benchStore opens a migrated store at url with one merchant, closed when
// the benchmark ends.
func benchStore(b *testing.B, url string) (*store.Store, *store.Merchant) {
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	m := &store.Merchant{Name: "Bench"}
	if _, err := st.CreateMerchant(ctx, m); err != nil {
		b.Fatal(err)
	}
	return st, m
}
