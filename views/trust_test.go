package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/locales"
)

// TestTrustCues: the footer says the connection is encrypted only when it
// is, names the provider only in live mode, links the merchant's terms and
// privacy policy when set, and the merchant's support contact on every
// state.
func TestTrustCues(t *testing.T) {
	t.Parallel()
	renderAs := func(v CheckoutView, secure bool) *goquery.Document {
		t.Helper()
		ctx := WithRequest(context.Background(), Request{Printer: locales.For("en"), Secure: secure, CSRF: func() string { return "x" }})
		var buf bytes.Buffer
		if err := Checkout(v).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	v := baseView()
	v.Livemode, v.Provider = true, "Acme Pay"
	v.TermsURL, v.PrivacyURL = "https://shop.example/terms", "https://shop.example/privacy"
	doc := renderAs(v, true)
	for id, want := range map[string]string{
		"trust-secure": "Encrypted connection", "trust-provider": "Payment processed by Acme Pay",
		"trust-terms": "Terms of service", "trust-privacy": "Privacy policy",
	} {
		if got := strings.TrimSpace(doc.Find(`footer [data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if href := doc.Find(`[data-testid="trust-terms"]`).AttrOr("href", ""); href != v.TermsURL {
		t.Errorf("terms link %q", href)
	}

	// Plain http, test mode, no links set: none of it is claimed.
	v = baseView()
	v.Provider = "Acme Pay"
	doc = renderAs(v, false)
	if n := doc.Find(`[data-testid="trust"]`).Length(); n != 0 {
		t.Errorf("trust cues with nothing true to say: %q", doc.Find(`[data-testid="trust"]`).Text())
	}

	// The support contact, on every state.
	for _, st := range []struct{ status, pay string }{
		{"open", "unpaid"}, {"open", "failed"}, {"processing", "pending"}, {"complete", "paid"},
		{"complete", "refunded"}, {"complete", "reversed"}, {"expired", "unpaid"}, {"canceled", "unpaid"},
	} {
		v := baseView()
		v.Status, v.PaymentStatus = st.status, st.pay
		v.Support = Support{Email: "help@shop.example"}
		doc := renderAs(v, false)
		if doc.Find(`footer a[href="mailto:help@shop.example"]`).Length() != 1 {
			t.Errorf("%s/%s: no support contact", st.status, st.pay)
		}
	}
}
