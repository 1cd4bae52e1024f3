package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
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

// BenchmarkAPICreate is POST /v1/checkout/sessions of three line items
// through the whole app on SQLite, without and with an Idempotency-Key (a
// fresh one each time): what a key adds to a create.
func BenchmarkAPICreate(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	keys, err := st.CreateMerchant(ctx, &store.Merchant{Name: "Bench Shop"})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"currency": {"eur"}, "success_url": {"https://shop.example/ok"}, "cancel_url": {"https://shop.example/cart"}}
	for i, name := range []string{"Mug", "Tea", "Spoon"} {
		p := "line_items[" + strconv.Itoa(i) + "]"
		form.Set(p+"[quantity]", "2")
		form.Set(p+"[price_data][unit_amount]", "1250")
		form.Set(p+"[price_data][product_data][name]", name)
	}
	body := form.Encode()
	app := handlers.New(st, handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		APIRate: 1e9, APIBurst: 1e9})
	serve := app.Handler()
	var fctx fasthttp.RequestCtx
	fctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}, nil)
	n := 0
	for _, keyed := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "keyed"}[keyed], func(b *testing.B) {
			for b.Loop() {
				fctx.Request.Reset()
				fctx.Response.Reset()
				fctx.Request.Header.SetMethod("POST")
				fctx.Request.SetRequestURI("/v1/checkout/sessions")
				fctx.Request.Header.Set("Authorization", "Bearer "+keys.Test)
				fctx.Request.Header.SetContentType("application/x-www-form-urlencoded")
				if keyed {
					n++
					fctx.Request.Header.Set("Idempotency-Key", "bench-"+strconv.Itoa(n))
				}
				fctx.Request.SetBodyString(body)
				serve(&fctx)
				if fctx.Response.StatusCode() != 200 {
					b.Fatalf("HTTP %d: %s", fctx.Response.StatusCode(), fctx.Response.Body())
				}
			}
		})
	}
}
