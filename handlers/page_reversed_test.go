package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// TestReversedPaymentIsNotPaid: a payment taken back by a chargeback is
// shown as reversed on the pay page, every return page and the embed, in
// the shopper's language: never as paid, never counting down to the
// merchant's success URL.
func TestReversedPaymentIsNotPaid(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	m, _ := handlertest.Merchant(t, srv.Store, "https://shop.example")
	sess := handlertest.MugSession(t, srv.Store, m, nil)
	for _, tr := range []store.Transition{
		{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "card"},
		{Action: store.ActionReverse, Source: "payment_event", FailureReason: "chargeback"},
	} {
		if _, err := srv.Store.Transition(context.Background(), sess.ID, tr); err != nil {
			t.Fatalf("%s: %v", tr.Action, err)
		}
	}
	for _, lang := range []string{"en", "de", "ar", "ja"} {
		title := locales.For(lang).T("status.reversed.title")
		paid := locales.For(lang).T("status.paid.title")
		for _, suffix := range []string{"", "/success", "/pending", "/cancel", "/embed?origin=https://shop.example"} {
			p := getPage(t, srv.URL+"/pay/"+sess.ID+suffix, "Accept-Language", lang)
			if p.resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d", lang, suffix, p.resp.StatusCode)
			}
			state := p.main("data-state")
			if strings.HasPrefix(suffix, "/embed") {
				state = p.testid("embed-status").AttrOr("data-state", "")
			}
			if state != "reversed" {
				t.Errorf("%s %s: data-state %q, want reversed", lang, suffix, state)
			}
			if h1 := strings.TrimSpace(p.doc.Find("h1").Text()); h1 != title {
				t.Errorf("%s %s: <h1> %q, want %q", lang, suffix, h1, title)
			}
			if strings.Contains(p.body, paid) || p.doc.Find(`[data-countdown="redirect"]`).Length() > 0 ||
				strings.Contains(p.doc.Find("noscript").Text(), "url=") {
				t.Errorf("%s %s: a reversed payment's page reads as paid or redirects", lang, suffix)
			}
		}
	}
}
