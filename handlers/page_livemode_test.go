package handlers_test

import (
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store/storetest"
)

// A live-mode shopper pays at the provider: the merchant's integration names
// where at creation, and a failure event may name where to retry.
func TestLiveModeCheckoutSendsTheShopperToTheProvider(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Live)
		created := api.mustOK("POST", "/v1/checkout/sessions", `{"currency":"eur",
			"line_items":[{"quantity":1,"price_data":{"unit_amount":900,"product_data":{"name":"Tea"}}}],
			"next_action":{"type":"redirect_to_url","redirect_url":"https://pay.provider.example/s/1"}}`)
		id := created["id"].(string)
		page := getPage(t, srv.URL+"/pay/"+id)
		if href := page.testid("pay").AttrOr("href", ""); href != "https://pay.provider.example/s/1" {
			t.Fatalf("open live checkout: pay link %q", href)
		}
		if r := api.do("POST", "/v1/checkout/sessions", `{"currency":"eur",
			"line_items":[{"quantity":1,"price_data":{"unit_amount":900,"product_data":{"name":"Tea"}}}],
			"next_action":{"type":"redirect_to_url","redirect_url":"javascript:alert(1)"}}`); r.Status != 400 || r.err()["param"] != "next_action[redirect_url]" {
			t.Fatalf("unsafe next_action at creation: %d %s", r.Status, r.Raw)
		}

		api.mustOK("POST", "/v1/payment_events", `{"id":"evt_live_1","type":"payment.failed","session":"`+id+`",
			"failure_reason":"card_declined","next_action":{"type":"redirect_to_url","redirect_url":"https://pay.provider.example/s/1/retry"}}`)
		page = getPage(t, srv.URL+"/pay/"+id)
		if page.main("data-payment-status") != "failed" || page.testid("pay").AttrOr("href", "") != "https://pay.provider.example/s/1/retry" {
			t.Fatalf("failed live checkout: %s, retry link %q", page.main("data-payment-status"), page.testid("pay").AttrOr("href", ""))
		}
	})
}
