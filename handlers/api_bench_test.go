package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// BenchmarkAPIRetrieve is GET /v1/checkout/sessions/:id through the whole
// app on SQLite, in Stripe's dialect: what a merchant backend's poll costs,
// to compare with BenchmarkCheckoutPageCookie's page.
func BenchmarkAPIRetrieve(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	m := &store.Merchant{Name: "Bench Shop"}
	keys, err := st.CreateMerchant(ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	unit := int64(1250)
	var items []store.LineItemParams
	for _, name := range []string{"Mug", "Tea", "Spoon"} {
		items = append(items, store.LineItemParams{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: name}}})
	}
	sess, err := st.CreateSession(ctx, m, false, &store.SessionParams{Currency: "eur",
		CancelURL: "https://shop.example/cart", LineItems: items})
	if err != nil {
		b.Fatal(err)
	}
	app := handlers.New(st, handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		APIRate: 1e9, APIBurst: 1e9}) // what a client gets, not how often it may ask
	serve := app.Handler()
	var fctx fasthttp.RequestCtx
	fctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}, nil)
	path := "/v1/checkout/sessions/" + sess.ID
	for b.Loop() {
		fctx.Request.Reset()
		fctx.Response.Reset()
		fctx.Request.Header.SetMethod("GET")
		fctx.Request.SetRequestURI(path)
		fctx.Request.Header.Set("Authorization", "Bearer "+keys.Test)
		serve(&fctx)
		if fctx.Response.StatusCode() != 200 {
			b.Fatalf("HTTP %d: %s", fctx.Response.StatusCode(), fctx.Response.Body())
		}
	}
}
