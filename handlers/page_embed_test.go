package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/store/storetest"
)

func TestEmbedIsFramableOnlyByTheAllowedOrigin(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, _ := handlertest.Merchant(t, in.Store, "https://shop.example", "http://127.0.0.2:9999")
		sess := handlertest.MugSession(t, in.Store, m, nil)
		embed := func(origin string, set bool) (*http.Response, *goquery.Document) {
			u := in.URL + "/pay/" + sess.ID + "/embed"
			if set {
				u += "?origin=" + url.QueryEscape(origin)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			return resp, doc
		}
		frameAncestors := func(resp *http.Response) string {
			for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
				if d = strings.TrimSpace(d); strings.HasPrefix(d, "frame-ancestors ") {
					return strings.TrimPrefix(d, "frame-ancestors ")
				}
			}
			return ""
		}

		for _, tc := range []struct{ asked, canonical string }{
			{"https://shop.example", "https://shop.example"},
			{"https://SHOP.example:443", "https://shop.example"},
			{"https://shop.example/", "https://shop.example"},
			{"http://127.0.0.2:9999", "http://127.0.0.2:9999"},
		} {
			resp, doc := embed(tc.asked, true)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", tc.asked, resp.StatusCode)
			}
			if got := frameAncestors(resp); got != tc.canonical {
				t.Errorf("%s: frame-ancestors %q, want exactly %q", tc.asked, got, tc.canonical)
			}
			if xfo := resp.Header.Get("X-Frame-Options"); xfo != "" {
				t.Errorf("%s: X-Frame-Options %q would forbid the framing CSP allows", tc.asked, xfo)
			}
			live := doc.Find("[data-live]")
			if o, _ := live.Attr("data-origin"); o != tc.canonical {
				t.Errorf("%s: live.js would post to %q, want %q", tc.asked, o, tc.canonical)
			}
			if v, _ := live.Attr("data-version"); v != "1" {
				t.Errorf("data-version %q", v)
			}
			if doc.Find(`[data-testid="embed-status"][role="status"]`).Length() != 1 {
				t.Errorf("%s: no status region in the widget", tc.asked)
			}
			if src, _ := doc.Find("script[src]").Attr("src"); !strings.HasPrefix(src, "/static/live.") {
				t.Errorf("%s: script %q", tc.asked, src)
			}
		}

		for _, tc := range []struct {
			name, origin string
			set          bool
			status       int
		}{
			{"no origin", "", false, 400},
			{"an origin not listed", "https://evil.example", true, 403},
			{"another scheme", "http://shop.example", true, 403},
			{"another port", "https://shop.example:8443", true, 403},
			{"a subdomain", "https://www.shop.example", true, 403},
			{"a path", "https://shop.example/checkout", true, 403},
			{"user info", "https://user@shop.example", true, 403},
			{"a header injection", "https://shop.example; script-src *", true, 403},
			{"a wildcard", "*", true, 403},
		} {
			resp, doc := embed(tc.origin, tc.set)
			if resp.StatusCode != tc.status {
				t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
			}
			if got := frameAncestors(resp); got != "'none'" || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s: the refusal is framable: frame-ancestors %q, X-Frame-Options %q", tc.name, got, resp.Header.Get("X-Frame-Options"))
			}
			if doc.Find(`[data-testid="embed-refused"]`).Length() != 1 || doc.Find("[data-live]").Length() != 0 {
				t.Errorf("%s: not the refusal page", tc.name)
			}
			if !strings.Contains(doc.Text(), "can only be shown on the seller's own website") {
				t.Errorf("%s: the refusal does not say why", tc.name)
			}
		}

		resp, err := http.Get(in.URL + "/pay/cs_test_nosuchsession/embed?origin=https%3A%2F%2Fshop.example")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("unknown session: %d, X-Frame-Options %q", resp.StatusCode, resp.Header.Get("X-Frame-Options"))
		}
	})
}

func TestEmbedShowsTheStateInTheShoppersLanguage(t *testing.T) {
	t.Parallel()
	in := startLiveInstance(t, storetest.SQLiteURL(t), time.Second)
	m, _ := handlertest.Merchant(t, in.Store, "https://shop.example")
	sess := handlertest.MugSession(t, in.Store, m, nil)
	req, _ := http.NewRequest(http.MethodGet, in.URL+"/pay/"+sess.ID+"/embed?origin=https://shop.example", nil)
	req.Header.Set("Accept-Language", "de-DE")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if lang, _ := doc.Find("html").Attr("lang"); lang != "de" {
		t.Errorf("lang %q, want de", lang)
	}
	widget := doc.Find(`[data-testid="embed-status"]`)
	if state, _ := widget.Attr("data-state"); state != "open" {
		t.Errorf("data-state %q", state)
	}
	if text := widget.Text(); !strings.Contains(text, "Live Shop") || !strings.Contains(text, "25,00") {
		t.Errorf("widget text %q lacks the merchant or the amount", text)
	}
	if href, _ := widget.Find("a").Attr("href"); href != "/pay/"+sess.ID {
		t.Errorf("link %q", href)
	}
	// The HTML parser reads <noscript> as text, as a browser with scripts does.
	if !strings.Contains(doc.Find("head noscript").Text(), `http-equiv="refresh"`) {
		t.Error("no refresh for browsers without JavaScript while the session is open")
	}
}
