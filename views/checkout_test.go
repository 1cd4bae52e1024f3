package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/paypage/paypage/locales"
)

var now = time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC)

// render renders a component for a shopper of the locale and parses it.
func render(t *testing.T, locale string, c templ.Component) *goquery.Document {
	t.Helper()
	ctx := WithRequest(context.Background(), Request{Printer: locales.For(locale), Nonce: "n0nce",
		CSRF: func() string { return "tok3n" }, Return: "/pay/cs_test_abc"})
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func baseView() CheckoutView {
	paid := now.Add(-time.Hour)
	return CheckoutView{
		ID: "cs_test_abc", Status: "open", PaymentStatus: "unpaid", Version: 3, Mode: "payment",
		Merchant: "Demo Coffee", Appearance: Appearance{BrandColor: "#6b3e26"},
		Currency: "eur", AmountSubtotal: 2900, AmountTotal: 3190,
		Items: []ItemView{
			{Name: "Beans", Description: "250 g", Quantity: 2, UnitAmount: 1450, Amount: 2900},
			{Name: "Club", Quantity: 1, UnitAmount: 0, Amount: 0, Interval: "month", IntervalCount: 3},
		},
		Adjustments:   []AdjustmentView{{Kind: "tax", Label: "VAT", Amount: 290}},
		CustomerEmail: "ada@example.com", Reference: "ORDER-1",
		Now: now, ExpiresAt: now.Add(24 * time.Hour), PaidAt: &paid,
		CancelURL: "https://shop.example/cart", SuccessURL: "https://shop.example/ok?cs=cs_test_abc",
	}
}

func testids(doc *goquery.Document) map[string]int {
	out := map[string]int{}
	doc.Find("[data-testid]").Each(func(_ int, s *goquery.Selection) { out[s.AttrOr("data-testid", "")]++ })
	return out
}

// Every state has its own view: the right banner, the main's data
// attributes with the stored values, one <h1>, and only the actions that
// state allows.
func TestCheckoutEveryState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state         State
		status, pay   string
		mod           func(*CheckoutView)
		banner        string // expected banner title
		want, notWant []string
		forms         int
	}{
		{state: StateOpen, status: "open", pay: "unpaid", banner: "Awaiting payment",
			want: []string{"pay", "decline", "confirm", "back-to-merchant", "total", "line-item", "status"}, forms: 1},
		{state: StateFailed, status: "open", pay: "failed", banner: "Payment failed",
			mod:  func(v *CheckoutView) { v.FailureReason = "insufficient_funds" },
			want: []string{"pay", "back-to-merchant"}, forms: 1},
		{state: StateNoPaymentRequired, status: "open", pay: "no_payment_required", banner: "No payment required",
			want: []string{"pay"}, notWant: []string{"decline", "confirm"}, forms: 1},
		{state: StateProcessing, status: "processing", pay: "pending", banner: "Processing your payment",
			want: []string{"settle-succeed", "settle-decline"}, notWant: []string{"pay"}, forms: 1},
		{state: StateRequiresAction, status: "processing", pay: "pending", banner: "Confirmation needed",
			mod:  func(v *CheckoutView) { v.NextActionURL = "https://acs.example/3ds"; v.Livemode = true },
			want: []string{"pay"}, notWant: []string{"settle-succeed"}},
		{state: StatePaid, status: "complete", pay: "paid", banner: "Payment received",
			want: []string{"back-to-merchant"}, notWant: []string{"pay", "countdown"}},
		{state: StateCompleteFree, status: "complete", pay: "no_payment_required", banner: "No payment required",
			notWant: []string{"pay"}},
		{state: StatePartiallyRefunded, status: "complete", pay: "partially_refunded", banner: "Partially refunded",
			mod: func(v *CheckoutView) {
				v.AmountRefunded = 1000
				v.Refunds = []RefundView{{Amount: 1000, Status: "succeeded", Created: now}, {Amount: 500, Status: "pending", Created: now}}
			},
			want: []string{"refund"}},
		{state: StateRefunded, status: "complete", pay: "refunded", banner: "Refunded",
			mod: func(v *CheckoutView) { v.AmountRefunded = 3190 }},
		{state: StateReversed, status: "complete", pay: "reversed", banner: "Payment reversed",
			want: []string{"back-to-merchant"}, notWant: []string{"pay", "countdown", "recover", "refund"}},
		{state: StateExpired, status: "expired", pay: "unpaid", banner: "This checkout has expired",
			mod:  func(v *CheckoutView) { v.RecoveryEnabled = true },
			want: []string{"recover", "back-to-merchant"}, notWant: []string{"pay"}, forms: 1},
		{state: StateCanceled, status: "canceled", pay: "unpaid", banner: "Checkout canceled",
			want: []string{"back-to-merchant"}, notWant: []string{"pay", "recover"}},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			v := baseView()
			v.Status, v.PaymentStatus = tc.status, tc.pay
			if tc.mod != nil {
				tc.mod(&v)
			}
			if v.State() != tc.state {
				t.Fatalf("State() = %s, want %s", v.State(), tc.state)
			}
			doc := render(t, "en", Checkout(v))
			main := doc.Find("main")
			if main.AttrOr("data-status", "") != tc.status || main.AttrOr("data-payment-status", "") != tc.pay ||
				main.AttrOr("data-version", "") != "3" {
				t.Errorf("main attributes: %v", main.Nodes[0].Attr)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="status"] .banner-title`).Text()); got != tc.banner {
				t.Errorf("banner %q, want %q", got, tc.banner)
			}
			if n := doc.Find(`[data-testid="status"][role="status"]`).Length(); n != 1 {
				t.Errorf("%d status live regions, want 1", n)
			}
			if n := doc.Find("h1").Length(); n != 1 {
				t.Errorf("%d <h1>, want 1", n)
			}
			ids := testids(doc)
			for _, id := range tc.want {
				if ids[id] == 0 {
					t.Errorf("no data-testid=%q", id)
				}
			}
			for _, id := range tc.notWant {
				if ids[id] != 0 {
					t.Errorf("unexpected data-testid=%q", id)
				}
			}
			if ids["line-item"] != 2 || ids["total"] != 1 {
				t.Errorf("line items %d, totals %d", ids["line-item"], ids["total"])
			}
			// The page's own forms; the footer's language switcher is on
			// every page.
			if n := doc.Find("main form").Length(); n != tc.forms {
				t.Errorf("%d forms, want %d", n, tc.forms)
			}
			doc.Find("form").Each(func(_ int, f *goquery.Selection) {
				if f.AttrOr("method", "") != "post" || f.Find(`input[name="csrf"][value="tok3n"]`).Length() != 1 {
					t.Errorf("form without POST and CSRF token: %s", f.AttrOr("action", ""))
				}
			})
			// Test mode never asks for card data; there are no inputs but
			// the hidden CSRF field.
			if n := doc.Find("main").Find(`input:not([type="hidden"]), select, textarea`).Length(); n != 0 {
				t.Errorf("%d input fields on a checkout page", n)
			}
		})
	}
}

func TestFailureShowsItsReason(t *testing.T) {
	t.Parallel()
	v := baseView()
	v.PaymentStatus, v.FailureReason = "failed", "insufficient_funds"
	text := render(t, "en", Checkout(v)).Find(`[data-testid="status"]`).Text()
	if !strings.Contains(text, "Your card has insufficient funds.") {
		t.Errorf("failure banner lacks the reason: %q", text)
	}
	v.FailureReason = "something_new"
	text = render(t, "en", Checkout(v)).Find(`[data-testid="status"]`).Text()
	if !strings.Contains(text, "The payment couldn't be completed.") {
		t.Errorf("unknown reason not explained generically: %q", text)
	}
}

// Amounts use the currency's ISO 4217 exponent through the locale printer.
func TestMoneyUsesTheCurrencyExponent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		currency string
		total    int64
		want     string
	}{
		{"eur", 3190, "€31.90"},
		{"jpy", 3600, "¥3,600"},
		{"kwd", 12345, "KWD 12.345"},
	} {
		v := baseView()
		v.Currency, v.AmountTotal = tc.currency, tc.total
		got := strings.TrimSpace(render(t, "en", Checkout(v)).Find(`[data-testid="total"]`).Text())
		if strings.ReplaceAll(got, "\u00a0", " ") != tc.want {
			t.Errorf("%s %d shows %q, want %q", tc.currency, tc.total, got, tc.want)
		}
	}
}

func TestCountdownOnlyInTheLastFiveMinutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		left      time.Duration
		countdown bool
		text      string
	}{
		{24 * time.Hour, false, ""},
		{5*time.Minute + time.Second, false, ""},
		{5 * time.Minute, true, "5:00 left to pay"},
		{4*time.Minute + 2*time.Second, true, "4:02 left to pay"},
	} {
		v := baseView()
		v.ExpiresAt = now.Add(tc.left)
		doc := render(t, "en", Checkout(v))
		cd := doc.Find(`[data-testid="countdown"]`)
		if (cd.Length() == 1) != tc.countdown {
			t.Errorf("%s left: countdown shown %v, want %v", tc.left, cd.Length() == 1, tc.countdown)
			continue
		}
		if tc.countdown {
			if got := strings.TrimSpace(cd.Text()); got != tc.text {
				t.Errorf("%s left: %q, want %q", tc.left, got, tc.text)
			}
			if cd.AttrOr("data-seconds", "") != itoa(int64(tc.left/time.Second)) {
				t.Errorf("%s left: data-seconds %q", tc.left, cd.AttrOr("data-seconds", ""))
			}
			if doc.Find("noscript").Length() == 0 {
				t.Errorf("%s left: no refresh at expiry for browsers without JavaScript", tc.left)
			}
		}
	}
}

// The return pages never contradict the stored state.
func TestReturnPagesFollowTheStoredState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ret, status, pay string
		hosted                 bool
		heading                string // the page's <h1>
		redirect               bool
	}{
		{"success of paid", ReturnSuccess, "complete", "paid", false, "Thank you!", true},
		{"success of paid, hosted", ReturnSuccess, "complete", "paid", true, "Thank you!", false},
		{"success of unpaid", ReturnSuccess, "open", "unpaid", false, "Pay Demo Coffee", false},
		{"success of expired", ReturnSuccess, "expired", "unpaid", false, "This checkout has expired", false},
		{"cancel of open", ReturnCancel, "open", "unpaid", false, "You haven't paid yet", false},
		{"cancel of paid", ReturnCancel, "complete", "paid", false, "Payment received", false},
		{"pending of processing", ReturnPending, "processing", "pending", false, "We're waiting for confirmation", false},
		{"pending of paid", ReturnPending, "complete", "paid", false, "Thank you!", true},
		{"pending of failed", ReturnPending, "open", "failed", false, "Pay Demo Coffee", false},
		{"success of reversed", ReturnSuccess, "complete", "reversed", false, "Payment reversed", false},
		{"pending of reversed", ReturnPending, "complete", "reversed", false, "Payment reversed", false},
		{"cancel of reversed", ReturnCancel, "complete", "reversed", false, "Payment reversed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := baseView()
			v.Return, v.Status, v.PaymentStatus, v.HostedCompletion = tc.ret, tc.status, tc.pay, tc.hosted
			doc := render(t, "en", Checkout(v))
			if got := strings.TrimSpace(doc.Find("h1").Text()); got != tc.heading {
				t.Errorf("<h1> %q, want %q", got, tc.heading)
			}
			body := doc.Find("body").Text()
			if (tc.status != "complete" || tc.pay == "reversed") && (strings.Contains(body, "Thank you") || strings.Contains(body, "Payment received")) {
				t.Errorf("an unpaid session's page says it was paid:\n%s", body)
			}
			cd := doc.Find(`[data-countdown="redirect"]`)
			if (cd.Length() == 1) != tc.redirect {
				t.Fatalf("redirect countdown shown %v, want %v", cd.Length() == 1, tc.redirect)
			}
			refresh := doc.Find("noscript").Text()
			if tc.redirect {
				if cd.AttrOr("data-href", "") != v.SuccessURL || !strings.Contains(refresh, "5; url="+v.SuccessURL) {
					t.Errorf("redirect to %q (noscript %q), want %q", cd.AttrOr("data-href", ""), refresh, v.SuccessURL)
				}
				if got := strings.TrimSpace(cd.Find("[data-countdown-text]").Text()); got != "Redirecting to Demo Coffee in 5 seconds…" {
					t.Errorf("countdown text %q", got)
				}
			} else if strings.Contains(refresh, "url=") {
				t.Errorf("unexpected redirect: %q", refresh)
			}
			if tc.ret == ReturnCancel && tc.status == "open" {
				if href := doc.Find(`[data-testid="pay"]`).AttrOr("href", ""); href != "/pay/cs_test_abc" {
					t.Errorf("cancel page of an open session links back to %q", href)
				}
			}
		})
	}
}

func TestWaitingPagesRefresh(t *testing.T) {
	t.Parallel()
	v := baseView()
	v.Return, v.Status, v.PaymentStatus = ReturnPending, "processing", "pending"
	doc := render(t, "en", Checkout(v))
	if doc.Find("[data-live]").Length() == 0 {
		t.Error("pending page does not ask live.js to follow the session")
	}
	if !strings.Contains(doc.Find("noscript").Text(), `content="3"`) {
		t.Errorf("pending page does not refresh without JavaScript: %q", doc.Find("noscript").Text())
	}
}

// Merchant text is escaped wherever it appears: text, attributes, URLs.
func TestMerchantTextIsEscaped(t *testing.T) {
	t.Parallel()
	const x = `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`
	v := baseView()
	v.Merchant, v.CustomerEmail, v.Reference = x, x, x
	v.Items[0].Name, v.Items[0].Description = x, x
	v.Adjustments[0].Label = x
	v.CustomText = CustomText{Submit: x, AfterSubmit: x, ShippingAddress: x, TermsOfService: x}
	v.Appearance = Appearance{DisplayName: x, LogoURL: `https://cdn.example/logo.png"><script>alert(1)</script>`,
		BrandColor: `red;}</style><script>alert(1)</script>`}
	v.Support = Support{Email: x}
	for _, st := range []struct{ status, pay string }{{"open", "unpaid"}, {"complete", "paid"}, {"expired", "unpaid"}} {
		v.Status, v.PaymentStatus = st.status, st.pay
		v.HostedCompletion, v.CompletionMessage = true, x
		var buf bytes.Buffer
		ctx := WithRequest(context.Background(), Request{Printer: locales.For("en")})
		if err := Checkout(v).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		html := buf.String()
		if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
			t.Errorf("%s: merchant text reached the page unescaped", st.status)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(html))
		if doc.Find("script").Length() != len(pageScripts(st.status)) || doc.Find("img").Length() != 1 {
			t.Errorf("%s: the page has %d scripts and %d images", st.status, doc.Find("script").Length(), doc.Find("img").Length())
		}
		if !strings.Contains(doc.Find(".merchant-name").Text(), x) {
			t.Errorf("%s: merchant name not shown as text", st.status)
		}
	}
}

func TestLayoutCarriesLocaleNonceAndIntegrity(t *testing.T) {
	t.Parallel()
	doc := render(t, "ar", Checkout(baseView()))
	html := doc.Find("html")
	if html.AttrOr("lang", "") != "ar" || html.AttrOr("dir", "") != "rtl" {
		t.Errorf("html lang=%q dir=%q", html.AttrOr("lang", ""), html.AttrOr("dir", ""))
	}
	doc.Find("script, style").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("nonce", "") != "n0nce" {
			t.Errorf("<%s> without the CSP nonce", goquery.NodeName(s))
		}
	})
	doc.Find("script[src], link[rel=stylesheet]").Each(func(_ int, s *goquery.Selection) {
		if !strings.HasPrefix(s.AttrOr("integrity", ""), "sha384-") {
			t.Errorf("%s without SRI", goquery.NodeName(s))
		}
	})
	if doc.Find("main#main").Length() != 1 || doc.Find(`a.skip[href="#main"]`).Length() != 1 ||
		doc.Find("header").Length() != 1 || doc.Find("footer").Length() != 1 {
		t.Error("landmarks or skip link missing")
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		title  string
	}{
		{404, "This checkout link isn't valid"},
		{403, "This request was refused"},
		{500, "Something went wrong"},
	} {
		doc := render(t, "en", ErrorPage(ErrorView{Status: tc.status, RequestID: "req_1"}))
		if got := strings.TrimSpace(doc.Find("h1").Text()); got != tc.title {
			t.Errorf("%d: <h1> %q, want %q", tc.status, got, tc.title)
		}
		if !strings.Contains(doc.Text(), "req_1") {
			t.Errorf("%d: no request id for support", tc.status)
		}
	}
	doc := render(t, "de", ErrorPage(ErrorView{Status: 404}))
	if doc.Find("html").AttrOr("lang", "") != "de" {
		t.Error("404 page not in the shopper's language")
	}
}
