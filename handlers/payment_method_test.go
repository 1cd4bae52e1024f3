package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// TestEveryPaymentMethodHasANameInEveryLocale: whatever type paypage
// accepts, the receipt can name it in every language.
func TestEveryPaymentMethodHasANameInEveryLocale(t *testing.T) {
	t.Parallel()
	for _, l := range locales.All() {
		p := locales.For(l.Code)
		for _, typ := range store.PaymentMethodTypes {
			key := "payment_method." + typ
			if name := p.T(key); name == key || strings.TrimSpace(name) == "" {
				t.Errorf("%s: no name for payment method %q", l.Code, typ)
			}
		}
	}
}

// TestReceiptNamesThePaymentMethod: the receipt shows BLIK, never the raw
// code "blik".
func TestReceiptNamesThePaymentMethod(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	m, _ := handlertest.Merchant(t, srv.Store)
	for _, tc := range []struct{ typ, lang, want string }{
		{"blik", "pl", "BLIK"}, {"sepa_debit", "de", "SEPA-Lastschrift"}, {"alipay", "zh", "支付宝"},
		{"us_bank_account", "en", "US bank account"}, {"afterpay_clearpay", "en-GB", "Clearpay"},
	} {
		sess := handlertest.MugSession(t, srv.Store, m, func(p *store.SessionParams) { p.Locale = tc.lang })
		if _, err := srv.Store.Transition(context.Background(), sess.ID,
			store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: tc.typ}); err != nil {
			t.Fatal(err)
		}
		p := getPage(t, srv.URL+"/pay/"+sess.ID)
		var got string
		p.doc.Find(".facts dt").Each(func(_ int, dt *goquery.Selection) {
			if dt.Text() == locales.For(tc.lang).T("receipt.payment_method") {
				got = strings.TrimSpace(dt.Next().Text())
			}
		})
		if got != tc.want {
			t.Errorf("%s in %s: the receipt names the payment method %q, want %q", tc.typ, tc.lang, got, tc.want)
		}
	}
}
