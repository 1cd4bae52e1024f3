package handlers_test

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/static"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// noRedirects shows the tests each answer as it is.
// noRedirects asks for pages uncompressed (Go's client would ask for gzip
// on its own): what is read is the page, and gzip under the race detector
// cost the suite more than anything the pages do. Compression has tests of
// its own (compress_test.go).
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type pageResult struct {
	resp *http.Response
	body string
	doc  *goquery.Document
}

func getPage(t *testing.T, rawURL string, header ...string) pageResult {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return pageResult{resp: resp, body: string(raw), doc: doc}
}

func (p pageResult) main(attr string) string { return p.doc.Find("main").AttrOr(attr, "") }

func (p pageResult) testid(id string) *goquery.Selection {
	return p.doc.Find(`[data-testid="` + id + `"]`)
}

var nonceRE = regexp.MustCompile(`'nonce-([^']+)'`)

// Every state's page, through the HTTP layer on both engines: the stored
// state on <main>, the markup contract, and the headers of a payment page.
func TestEveryStatePageThroughHTTP(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		for _, pc := range handlertest.SeedPages(t, srv) {
			t.Run(pc.Name, func(t *testing.T) {
				p := getPage(t, srv.URL+pc.Path)
				if p.resp.StatusCode != pc.HTTPStatus {
					t.Fatalf("HTTP %d, want %d", p.resp.StatusCode, pc.HTTPStatus)
				}
				if got := p.main("data-status"); got != pc.Status {
					t.Errorf("data-status %q, want %q", got, pc.Status)
				}
				csp := p.resp.Header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
					t.Errorf("CSP %q", csp)
				}
				m := nonceRE.FindStringSubmatch(csp)
				p.doc.Find("script, style").Each(func(_ int, s *goquery.Selection) {
					if m == nil || s.AttrOr("nonce", "") != m[1] {
						t.Errorf("<%s> nonce %q does not match the CSP", goquery.NodeName(s), s.AttrOr("nonce", ""))
					}
				})
				if pc.Status == "error" {
					return
				}
				if got := p.main("data-payment-status"); got != pc.Payment {
					t.Errorf("data-payment-status %q, want %q", got, pc.Payment)
				}
				if p.resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", p.resp.Header.Get("Cache-Control"))
				}
				// The status banner shows wherever it is news: every state
				// but a plain open checkout (which may have it, recovered).
				banners := p.testid("status").Length()
				if p.testid("line-item").Length() == 0 || p.testid("total").Length() != 1 || banners > 1 ||
					(banners == 0 && p.main("data-state") != "open") {
					t.Errorf("markup contract: %d line items, %d totals, %d status",
						p.testid("line-item").Length(), p.testid("total").Length(), p.testid("status").Length())
				}
				if p.main("data-version") == "" {
					t.Error("no data-version on <main>")
				}
			})
		}
	})
}

// The return pages show the stored state whatever their URL claims, and
// move on to the merchant only once the payment is really done.
func TestReturnPagesNeverContradictTheStoredState(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{SuccessURL: "https://shop.example/thanks?cs={CHECKOUT_SESSION_ID}"})
		base := srv.URL + "/pay/" + sess.ID

		p := getPage(t, base+"/success")
		if p.main("data-status") != "open" || strings.Contains(p.body, "Thank you") || p.testid("countdown").Length() != 0 {
			t.Fatalf("success page of an unpaid session: %s %s", p.main("data-status"), p.doc.Find("main").Text())
		}
		if !strings.Contains(p.testid("return-notice").Text(), "haven't received confirmation") {
			t.Errorf("success page of an unpaid session does not say so: %q", p.testid("return-notice").Text())
		}
		p = getPage(t, base+"/cancel")
		if p.main("data-status") != "open" || p.testid("pay").AttrOr("href", "") != "/pay/"+sess.ID {
			t.Errorf("cancel page of an open session does not offer to go back to it")
		}

		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionProcess, Source: "api"})
		p = getPage(t, base+"/pending")
		if p.main("data-status") != "processing" ||
			!strings.Contains(p.doc.Find("noscript").Text(), "refresh") {
			t.Errorf("pending page of a processing session does not wait for the outcome")
		}
		p = getPage(t, base+"/success")
		if p.main("data-status") != "processing" || strings.Contains(p.body, "Thank you") {
			t.Errorf("success page of a processing session claims success")
		}

		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
		want := "https://shop.example/thanks?cs=" + sess.ID
		for _, path := range []string{"/pending", "/success"} {
			p = getPage(t, base+path)
			cd := p.doc.Find(`[data-countdown="redirect"]`)
			if p.main("data-status") != "complete" || cd.AttrOr("data-href", "") != want ||
				p.testid("back-to-merchant").AttrOr("href", "") != want ||
				!strings.Contains(p.doc.Find("noscript").Text(), "url="+want) {
				t.Errorf("%s of a paid session: status %s, redirect %q", path, p.main("data-status"), cd.AttrOr("data-href", ""))
			}
		}
		p = getPage(t, base+"/cancel")
		if p.main("data-status") != "complete" || !strings.Contains(p.testid("status").Text(), "Payment received") ||
			p.doc.Find(`[data-countdown="redirect"]`).Length() != 0 {
			t.Errorf("cancel page of a paid session does not show the receipt")
		}

		hosted := handlertest.CreateSession(t, srv, false, store.SessionParams{SuccessURL: "https://shop.example/thanks",
			AfterCompletion: &store.AfterCompletion{Type: "hosted", CustomMessage: "See you soon"}})
		handlertest.TransitionTo(t, srv, hosted.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
		p = getPage(t, srv.URL+"/pay/"+hosted.ID+"/pending")
		if p.doc.Find(`[data-countdown="redirect"]`).Length() != 0 || strings.Contains(p.doc.Find("noscript").Text(), "url=") ||
			!strings.Contains(p.body, "See you soon") {
			t.Errorf("hosted completion does not stay on the receipt")
		}
	})
}

// An XSS payload in every merchant-supplied field comes out as text.
func TestMerchantSuppliedFieldsAreEscaped(t *testing.T) {
	t.Parallel()
	const x = `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		ctx := context.Background()
		m := &store.Merchant{Name: "Evil " + x, DisplayName: x,
			SupportURL: `https://help.example/"><script>alert(1)</script>`, RecoveryEnabled: true}
		if _, err := srv.Store.CreateMerchant(ctx, m); err != nil {
			t.Fatal(err)
		}
		// Validation refuses such an address now; one stored before it was
		// (or by another writer) must still come out as text.
		m.SupportEmail = x + "@example.com"
		if _, err := srv.Store.DB().Exec(srv.Store.DB().Rebind(`UPDATE merchants SET support_email = ? WHERE id = ?`), m.SupportEmail, m.ID); err != nil {
			t.Fatal(err)
		}
		unit := int64(999)
		p := store.SessionParams{
			// An email address cannot hold markup any more; these are the
			// characters it may hold that HTML cares about.
			Currency: "usd", ClientReferenceID: x, CustomerEmail: "o'brien&{co}@example.com",
			LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
				ProductData: &store.ProductData{Name: x, Description: x}}}},
			Fees:            []store.AdjustmentParams{{Type: store.AdjustFee, Label: x, Amount: 100}},
			CancelURL:       `https://shop.example/cart?q="><script>alert(1)</script>`,
			SuccessURL:      `https://shop.example/ok?q="><script>alert(1)</script>`,
			Appearance:      &store.Appearance{DisplayName: x, LogoURL: `https://cdn.example/logo.png?"><script>alert(1)</script>`},
			CustomText:      &store.CustomText{Submit: x, AfterSubmit: x, ShippingAddress: x, TermsOfService: x},
			AfterCompletion: &store.AfterCompletion{Type: "hosted", CustomMessage: x},
		}
		var ids []string
		for _, tr := range []*store.Transition{nil,
			{Action: store.ActionSucceed, Source: "api"},
			{Action: store.ActionFail, Source: "api", FailureReason: x, FailureMessage: x},
			{Action: store.ActionExpire, Source: "api"},
			{Action: store.ActionProcess, Source: "api", Provider: x,
				NextAction: &store.NextAction{Type: "redirect_to_url", RedirectURL: `https://acs.example/"><script>alert(1)</script>`}},
		} {
			sess, err := srv.Store.CreateSession(ctx, m, tr != nil && tr.Action == store.ActionProcess, &p)
			if err != nil {
				t.Fatal(err)
			}
			if tr != nil {
				handlertest.TransitionTo(t, srv, sess.ID, *tr)
			}
			ids = append(ids, sess.ID)
		}
		for _, id := range ids {
			for _, path := range []string{"", "/success", "/cancel", "/pending"} {
				pg := getPage(t, srv.URL+"/pay/"+id+path)
				if pg.resp.StatusCode != 200 {
					t.Fatalf("%s%s: HTTP %d", id, path, pg.resp.StatusCode)
				}
				if strings.Contains(pg.body, "<script>alert") || strings.Contains(pg.body, "<img src=x") {
					t.Errorf("%s%s: a payload reached the page unescaped", pg.main("data-status"), path)
				}
				want := 2 // checkout.js and live.js
				if st := pg.main("data-status"); st == "complete" || st == "expired" || st == "canceled" {
					want = 1 // nothing left to follow: checkout.js alone
				}
				if n := pg.doc.Find("script").Length(); n != want {
					t.Errorf("%s%s: %d <script> elements, want %d", pg.main("data-status"), path, n, want)
				}
				if !strings.Contains(pg.doc.Find(".merchant-name").Text(), x) {
					t.Errorf("%s%s: the merchant's name is not shown as text", pg.main("data-status"), path)
				}
			}
		}
	})
}

func TestUnknownSessionIsAFriendly404InTheShoppersLanguage(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		for _, path := range []string{"/pay/cs_test_nope", "/pay/cs_test_nope/success", "/pay/cs_test_nope/pending", "/nowhere"} {
			p := getPage(t, srv.URL+path, "Accept-Language", "de-DE,de;q=0.9")
			if p.resp.StatusCode != 404 || p.doc.Find("html").AttrOr("lang", "") != "de" ||
				p.main("data-status") != "error" || p.doc.Find("h1").Length() != 1 {
				t.Errorf("%s: HTTP %d lang %q", path, p.resp.StatusCode, p.doc.Find("html").AttrOr("lang", ""))
			}
			if strings.Contains(p.body, "not_found") || strings.Contains(p.body, "store:") {
				t.Errorf("%s: internals on the 404 page", path)
			}
		}
	})
}

// The page's locale follows SPEC.md's order: the session's locale beats the
// browser's, which beats the merchant's default.
func TestPageLocale(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	fr := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "fr"})
	auto := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	for _, tc := range []struct {
		id, accept, lang, dir string
	}{
		{fr.ID, "de", "fr", "ltr"},
		{auto.ID, "he-IL,he;q=0.9", "he", "rtl"},
		{auto.ID, "", "en", "ltr"},
	} {
		p := getPage(t, srv.URL+"/pay/"+tc.id, "Accept-Language", tc.accept)
		html := p.doc.Find("html")
		if html.AttrOr("lang", "") != tc.lang || html.AttrOr("dir", "") != tc.dir || p.resp.Header.Get("Content-Language") != tc.lang {
			t.Errorf("Accept-Language %q: lang %q dir %q", tc.accept, html.AttrOr("lang", ""), html.AttrOr("dir", ""))
		}
	}
}

// Static assets are embedded, fingerprinted, cached for good, and their SRI
// value matches what is served.
func TestStaticAssetsAreFingerprintedAndImmutable(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, a := range static.All() {
		resp, err := http.Get(srv.URL + static.Path(a.Name))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha512.Sum384(body)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			resp.Header.Get("Content-Type") != a.ContentType || !strings.Contains(static.Path(a.Name), ".") ||
			"sha384-"+base64.StdEncoding.EncodeToString(sum[:]) != a.Integrity {
			t.Errorf("%s: HTTP %d, %q, %q", a.Name, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
		}
	}
	resp, err := http.Get(srv.URL + "/static/app.00000000.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown asset: HTTP %d", resp.StatusCode)
	}
}

// A page and everything it loads stays under 60 KB.
func TestPageWeightUnder60KB(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	long := strings.Repeat("Lorem ipsum dolor sit amet. ", 50)[:1200]
	unit := int64(1999)
	var items []store.LineItemParams
	for range 10 {
		items = append(items, store.LineItemParams{Quantity: 3, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "A product with a rather long name", Description: long[:400]}}})
	}
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{LineItems: items,
		CustomText: &store.CustomText{Submit: long, AfterSubmit: long, ShippingAddress: long, TermsOfService: long}})
	p := getPage(t, srv.URL+"/pay/"+sess.ID)
	total := len(p.body)
	p.doc.Find("link[href], script[src]").Each(func(_ int, s *goquery.Selection) {
		ref := s.AttrOr("href", s.AttrOr("src", ""))
		u, _ := url.Parse(ref)
		a, ok := static.Lookup(strings.TrimPrefix(u.Path, static.Prefix))
		if !ok {
			t.Errorf("the page loads %s, not an embedded asset", ref)
			return
		}
		total += len(a.Body)
	})
	if total > 60*1024 {
		t.Errorf("page weight %d bytes, over 60 KB", total)
	}
	t.Logf("page weight with 10 items and all custom texts: %d bytes", total)
}
