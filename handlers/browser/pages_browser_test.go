package browser_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	bt "github.com/paypage/paypage/handlers/browsertest"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// TestBrowserTimesInTheShoppersZone: with JavaScript the receipt and the
// expiry show the browser's own zone (set to Tokyo here), named; without
// it, the zone the server tells from Accept-Language (ja-JP: Tokyo too),
// named; never UTC for everyone.
func TestBrowserTimesInTheShoppersZone(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	open := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "en"})
	paid := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "en"})
	paidNow := handlertest.TransitionTo(t, srv, paid.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "card"})
	paidAt := time.Unix(*paidNow.PaidAt, 0).In(tokyo)
	expiresAt := time.Unix(open.ExpiresAt, 0).In(tokyo)

	t.Run("javascript: the browser's zone", func(t *testing.T) {
		t.Parallel()
		ctx := b.Tab(t, 360)
		if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path, sel string
			at        time.Time
		}{
			{"/pay/" + paid.ID, `[data-testid="paid-at"] time`, paidAt},
			{"/pay/" + open.ID, `[data-testid="expires-on"] time`, expiresAt},
		} {
			bt.Open(t, ctx, srv.URL+tc.path)
			got := bt.Eval[[]string](t, ctx, `(function (el) { return [el.textContent, el.dataset.zone || ""]; })(document.querySelector('`+tc.sel+`'))`)
			// en in Tokyo: "Dec 3, 2026, 9:01 AM GMT+9".
			if got[1] != "Asia/Tokyo" || !strings.Contains(got[0], tc.at.Format("3:04")) || !strings.Contains(got[0], "GMT+9") {
				t.Errorf("%s: %q shown in zone %q, want %s in Tokyo time, zone named", tc.path, got[0], got[1], tc.at.Format("3:04"))
			}
			bt.CheckClean(t, ctx)
		}
	})

	t.Run("no javascript: the zone Accept-Language tells", func(t *testing.T) {
		t.Parallel()
		ctx := b.Tab(t, 360)
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": "ja-JP,ja;q=0.9"}}); err != nil {
			t.Fatal(err)
		}
		// The session's own locale (en) is the page's language; the
		// header's country still tells the zone.
		bt.Open(t, ctx, srv.URL+"/pay/"+paid.ID)
		got := bt.Eval[string](t, ctx, `document.querySelector('[data-testid="paid-at"] time').textContent`)
		if !strings.Contains(got, paidAt.Format("3:04")) || !strings.HasSuffix(strings.TrimSpace(got), "JST") {
			t.Errorf("without JavaScript the receipt says %q, want %s JST", got, paidAt.Format("3:04"))
		}
	})
}

// TestBrowserNoRequestFails opens a checkout, a paid return page, a
// reversed payment's page, the 404 page and the embed, and listens to every response from paypage: none is an error but
// the 404 page's own, /favicon.ico answers with an icon, and the pages come
// compressed.
func TestBrowserNoRequestFails(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	shop := merchantSite(t, "127.0.0.2", srv.URL)
	m, _ := handlertest.Merchant(t, srv.Store, shop)
	open := handlertest.MugSession(t, srv.Store, m, nil)
	paid := handlertest.MugSession(t, srv.Store, m, func(p *store.SessionParams) {
		p.AfterCompletion = &store.AfterCompletion{Type: "hosted"}
	})
	handlertest.TransitionTo(t, srv, paid.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "blik"})
	reversed := handlertest.MugSession(t, srv.Store, m, nil)
	handlertest.TransitionTo(t, srv, reversed.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "card"})
	handlertest.TransitionTo(t, srv, reversed.ID, store.Transition{Action: store.ActionReverse, Source: "payment_event"})
	embed := srv.URL + "/pay/" + open.ID + "/embed?origin=" + url.QueryEscape(shop)

	for _, tc := range []struct{ name, url, want404 string }{
		{"checkout", srv.URL + "/pay/" + open.ID, ""},
		{"paid success", srv.URL + "/pay/" + paid.ID + "/success", ""},
		{"reversed", srv.URL + "/pay/" + reversed.ID, ""},
		{"not found", srv.URL + "/pay/cs_test_nosuchsession", srv.URL + "/pay/cs_test_nosuchsession"},
		// Opened as a page of its own: framed on the shop's origin, its
		// requests would be another process's, out of this tab's sight.
		{"embed", embed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := b.Tab(t, 1280)
			var mu sync.Mutex
			seen := map[string]*network.Response{}
			if err := chromedp.Listen(ctx, func(ev any) {
				if e, ok := ev.(*network.EventResponseReceived); ok && strings.HasPrefix(e.Response.URL, srv.URL) {
					mu.Lock()
					seen[e.Response.URL] = e.Response
					mu.Unlock()
				}
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				t.Fatal(err)
			}
			bt.Open(t, ctx, tc.url)
			icon := bt.Eval[[]string](t, ctx, `fetch("`+srv.URL+`/favicon.ico", {mode: "no-cors"}).then(function (r) { return [String(r.status || "opaque"), r.type]; })`)
			mu.Lock()
			defer mu.Unlock()
			if r := seen[srv.URL+"/favicon.ico"]; r == nil || r.Status != 200 || !strings.HasPrefix(r.MimeType, "image/") {
				t.Errorf("/favicon.ico: %v %+v", icon, r)
			}
			// Pages whose session can no longer change, and error pages, load
			// no live-update script; the open checkout and the embed do.
			live := false
			for u := range seen {
				live = live || strings.Contains(u, "/static/live.")
			}
			if wantLive := tc.name == "checkout" || tc.name == "embed"; live != wantLive {
				t.Errorf("live.js loaded: %v, want %v", live, wantLive)
			}
			if tc.name == "not found" {
				if n := bt.Eval[int](t, ctx, `document.scripts.length`); n != 0 {
					t.Errorf("the 404 page has %d scripts", n)
				}
			}
			pages := 0
			for u, r := range seen {
				if r.Status >= 400 && u != tc.want404 {
					t.Errorf("%s answered %d", u, r.Status)
				}
				if r.MimeType == "text/html" || r.MimeType == "text/css" || r.MimeType == "text/javascript" || r.MimeType == "application/javascript" {
					pages++
					if enc := headerValue(r.Headers, "Content-Encoding"); enc != "br" && enc != "gzip" {
						t.Errorf("%s (%s) came with Content-Encoding %q", u, r.MimeType, enc)
					}
				}
			}
			if pages == 0 {
				t.Errorf("no page, style sheet or script seen from paypage: %v", keys(seen))
			}
		})
	}
}

func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBrowserTrustCuesReversalAndWords looks, as a shopper would, at a live
// checkout whose merchant set terms and privacy links (the provider named,
// the links there, no encrypted-connection claim over plain http), at a
// reversed payment's success page (not paid, no redirect, the payment
// method named), and at the Japanese test panel (no ASCII space after
// "。"); axe-core finds nothing on any of them.
func TestBrowserTrustCuesReversalAndWords(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	if _, err := srv.Store.UpdateMerchant(t.Context(), srv.Merchant.ID, func(m *store.Merchant) error {
		m.TermsURL, m.PrivacyURL, m.SupportEmail = "https://shop.example/terms", "https://shop.example/privacy", "help@shop.example"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	live := handlertest.CreateSession(t, srv, true, store.SessionParams{})
	handlertest.TransitionTo(t, srv, live.ID, store.Transition{Action: store.ActionProcess, Source: "api", Provider: "Acme Pay",
		NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.acmepay.example/3ds/abc"}})
	reversed := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "pl", SuccessURL: srv.URL + "/healthz"})
	handlertest.TransitionTo(t, srv, reversed.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "blik"})
	handlertest.TransitionTo(t, srv, reversed.ID, store.Transition{Action: store.ActionReverse, Source: "payment_event"})
	ja := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "ja"})

	t.Run("live checkout", func(t *testing.T) {
		t.Parallel()
		ctx := b.ReusedTab(t, 360)
		bt.Open(t, ctx, srv.URL+"/pay/"+live.ID)
		got := bt.Eval[map[string]string](t, ctx, `(function () {
			var q = function (s) { var e = document.querySelector(s); return e ? (e.getAttribute("href") || e.textContent.trim()) : ""; };
			return {provider: q('[data-testid="trust-provider"]'), terms: q('[data-testid="trust-terms"]'),
				privacy: q('[data-testid="trust-privacy"]'), secure: q('[data-testid="trust-secure"]'),
				support: q('footer a[href^="mailto:"]')};
		})()`)
		want := map[string]string{"provider": "Payment processed by Acme Pay", "terms": "https://shop.example/terms",
			"privacy": "https://shop.example/privacy", "secure": "", "support": "mailto:help@shop.example"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q", k, got[k], v)
			}
		}
		bt.Screenshot(t, ctx, "trust-live-360")
		bt.CheckClean(t, ctx)
		b.CheckAccessible(t, ctx)
	})

	t.Run("reversed success page", func(t *testing.T) {
		t.Parallel()
		ctx := b.ReusedTab(t, 360)
		bt.Open(t, ctx, srv.URL+"/pay/"+reversed.ID+"/success")
		got := bt.Eval[map[string]any](t, ctx, `({state: document.querySelector("main").dataset.state,
			countdown: document.querySelectorAll("[data-countdown]").length,
			h1: document.querySelector("h1").textContent.trim(), body: document.body.innerText})`)
		if got["state"] != "reversed" || got["countdown"] != float64(0) || got["h1"] != "Płatność cofnięta" {
			t.Errorf("reversed success page: state %v, %v countdowns, <h1> %q", got["state"], got["countdown"], got["h1"])
		}
		bt.Screenshot(t, ctx, "reversed-success-pl-360")
		bt.CheckClean(t, ctx)
		b.CheckAccessible(t, ctx)
	})

	t.Run("japanese test panel", func(t *testing.T) {
		t.Parallel()
		ctx := b.ReusedTab(t, 360)
		bt.Open(t, ctx, srv.URL+"/pay/"+ja.ID)
		text := bt.Eval[string](t, ctx, `document.querySelector(".testpanel p").textContent`)
		if strings.Contains(text, "。 ") || !strings.Contains(text, "。") {
			t.Errorf("Japanese sentences joined as %q", text)
		}
		if foot := bt.Eval[string](t, ctx, `document.querySelector("footer").innerText`); strings.Contains(foot, "paypage で提供") {
			t.Errorf("footer still says %q", foot)
		}
		b.CheckAccessible(t, ctx)
	})
}
