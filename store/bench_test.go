package store_test

import (
	"context"
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
			st, err := store.Open(ctx, e.url)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			m := &store.Merchant{Name: "Bench"}
			if _, err := st.CreateMerchant(ctx, m); err != nil {
				b.Fatal(err)
			}
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
