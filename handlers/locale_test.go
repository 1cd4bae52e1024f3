package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func htmlLang(p pageResult) string { return p.doc.Find("html").AttrOr("lang", "") }

// choose submits the language switcher as a same-origin browser does, and
// returns the answer and the browser with the cookie it now holds.
func (b shopperBrowser) choose(t *testing.T, srvURL, locale, ret string, header ...string) (*http.Response, shopperBrowser) {
	t.Helper()
	resp := b.post(t, srvURL+"/locale", url.Values{"locale": {locale}, "return": {ret}}, header...)
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-paypage" {
			b.cookie = c.Name + "=" + c.Value
		}
	}
	return resp, b
}

// The "done when": Accept-Language ar answers <html lang="ar"
// dir="rtl"> in Arabic, with amounts in the Arabic locale's format, on the
// checkout and on every return page.
func TestLocaleArabicFromAcceptLanguage(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		unit := int64(123456)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{LineItems: []store.LineItemParams{{Quantity: 1,
			PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "Mug"}}}}})
		ar := locales.For("ar")
		arabic := regexp.MustCompile(`\p{Arabic}`)
		for _, path := range []string{"", "/success", "/cancel", "/pending"} {
			p := getPage(t, srv.URL+"/pay/"+sess.ID+path, "Accept-Language", "ar")
			if !strings.Contains(p.body, `<html lang="ar" dir="rtl"`) || p.resp.Header.Get("Content-Language") != "ar" {
				t.Errorf("%s: html lang %q dir %q, Content-Language %q", path, htmlLang(p),
					p.doc.Find("html").AttrOr("dir", ""), p.resp.Header.Get("Content-Language"))
			}
			// CLDR 48's Arabic: Latin digits, a right-to-left mark, the
			// symbol after the number; the whole a direction isolate.
			if got, want := p.testid("total").Text(), "\u2068\u200f1,234.56\u00a0€\u2069"; got != want || got != "\u2068"+ar.Money(unit, "eur")+"\u2069" {
				t.Errorf("%s: total %+q, want %+q", path, got, want)
			}
			if got := strings.TrimSpace(p.doc.Find(".totals .total dt").Text()); got != ar.T("checkout.total") {
				t.Errorf("%s: total label %q, want %q", path, got, ar.T("checkout.total"))
			}
			if h1 := p.doc.Find("h1").Text(); !arabic.MatchString(h1) {
				t.Errorf("%s: heading %q is not in Arabic", path, h1)
			}
		}
	})
}

// SPEC.md's order, on the checkout and each return page: the switcher's
// choice, the session's locale unless auto, Accept-Language, the merchant's
// default, English.
func TestLocaleChoiceOrder(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		ctx := context.Background()
		italian := &store.Merchant{Name: "Negozio", DefaultLocale: "it"}
		if _, err := srv.Store.CreateMerchant(ctx, italian); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name                             string
			merchant                         *store.Merchant
			session, accept, choice, wantTag string
		}{
			{"English when nothing is known", srv.Merchant, "", "", "", "en"},
			{"the merchant's default when the browser says nothing", italian, "", "", "", "it"},
			{"Accept-Language beats the merchant's default", italian, "", "de-DE,de;q=0.9", "", "de"},
			{"a language the browser wants but paypage lacks falls through", italian, "", "am", "", "it"},
			{"the session's locale beats Accept-Language", italian, "ja", "de", "", "ja"},
			{"an auto session falls through to Accept-Language", italian, "auto", "de", "", "de"},
			{"an auto session without a browser preference: the merchant's default", italian, "auto", "", "", "it"},
			{"the shopper's choice beats everything", italian, "ja", "de", "fr", "fr"},
			{"the shopper's choice beats an auto session too", srv.Merchant, "auto", "ko", "pt", "pt-PT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := int64(500)
				sess, err := srv.Store.CreateSession(ctx, tc.merchant, false, &store.SessionParams{Currency: "eur", Locale: tc.session,
					CancelURL: "https://shop.example/cart", LineItems: []store.LineItemParams{{Quantity: 1,
						PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "Tea"}}}}})
				if err != nil {
					t.Fatal(err)
				}
				base := srv.URL + "/pay/" + sess.ID
				var cookie []string
				if tc.choice != "" {
					resp, b := visit(t, base).choose(t, srv.URL, tc.choice, "/pay/"+sess.ID)
					if resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("switcher: HTTP %d", resp.StatusCode)
					}
					cookie = []string{"Cookie", b.cookie}
				}
				for _, path := range []string{"", "/success", "/cancel", "/pending"} {
					p := getPage(t, base+path, append([]string{"Accept-Language", tc.accept}, cookie...)...)
					if got := htmlLang(p); got != tc.wantTag || p.resp.Header.Get("Content-Language") != tc.wantTag {
						t.Errorf("%s: lang %q, want %q", path, got, tc.wantTag)
					}
				}
			})
		}

		// A cookie that does not decode (tampered, or signed with a key
		// since dropped) counts as no choice, and is replaced.
		ja := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "ja"})
		_, chosen := visit(t, srv.URL+"/pay/"+ja.ID).choose(t, srv.URL, "fr", "/pay/"+ja.ID)
		for _, bad := range []string{chosen.cookie[:len(chosen.cookie)-4] + "AAAA", "__Host-paypage=garbage", "__Host-paypage="} {
			p := getPage(t, srv.URL+"/pay/"+ja.ID, "Cookie", bad, "Accept-Language", "de")
			if p.resp.StatusCode != http.StatusOK || htmlLang(p) != "ja" || len(p.resp.Header.Values("Set-Cookie")) != 1 {
				t.Errorf("cookie %.40q: HTTP %d lang %q, %d Set-Cookie", bad, p.resp.StatusCode, htmlLang(p), len(p.resp.Header.Values("Set-Cookie")))
			}
		}
	})
}

// switcherForm checks the page's language switcher and returns its form.
func switcherForm(t *testing.T, name string, p pageResult) *goquery.Selection {
	t.Helper()
	f := p.testid("locale-switcher")
	if f.Length() != 1 || f.AttrOr("method", "") != "post" || f.AttrOr("action", "") != "/locale" {
		t.Fatalf("%s: %d switchers, method %q action %q", name, f.Length(), f.AttrOr("method", ""), f.AttrOr("action", ""))
	}
	if f.Find(`input[name="csrf"]`).AttrOr("value", "") == "" {
		t.Errorf("%s: the switcher carries no CSRF token", name)
	}
	sel := f.Find(`select[name="locale"]`)
	label := f.Find(`label[for="` + sel.AttrOr("id", "-") + `"]`)
	code := p.resp.Header.Get("Content-Language")
	if strings.TrimSpace(label.Text()) == "" || f.Find(`button[type="submit"]`).Length() != 1 {
		t.Errorf("%s: the switcher lacks a visible label or a submit button", name)
	}
	opts := sel.Find("option")
	if opts.Length() != len(locales.All()) {
		t.Errorf("%s: %d languages offered, want %d", name, opts.Length(), len(locales.All()))
	}
	for i, l := range locales.All() {
		o := opts.Eq(i)
		if o.AttrOr("value", "") != l.Code || o.AttrOr("lang", "") != l.Lang || o.Text() != l.Name {
			t.Errorf("%s: option %d is %q lang %q %q, want %s", name, i, o.AttrOr("value", ""), o.AttrOr("lang", ""), o.Text(), l.Code)
		}
	}
	if sel := opts.Filter("[selected]"); sel.Length() != 1 || locales.For(sel.AttrOr("value", "")).Lang() != code {
		t.Errorf("%s: selected %q, page in %q", name, sel.AttrOr("value", ""), code)
	}
	return f
}

// Every page a shopper can see carries the switcher, which brings them back
// to the page they are on (or the session's page, from its other routes).
func TestLocaleSwitcherOnEveryPage(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	paid := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	handlertest.TransitionTo(t, srv, paid.ID, store.Transition{Action: store.ActionSucceed, Source: "api"})
	for _, tc := range []struct{ path, ret string }{
		{"/pay/" + sess.ID, "/pay/" + sess.ID},
		{"/pay/" + paid.ID, "/pay/" + paid.ID},
		{"/pay/" + paid.ID + "/success", "/pay/" + paid.ID + "/success"},
		{"/pay/" + sess.ID + "/cancel", "/pay/" + sess.ID + "/cancel"},
		{"/pay/" + sess.ID + "/pending", "/pay/" + sess.ID + "/pending"},
		{"/pay/cs_test_nope", "/pay/cs_test_nope"},
		{"/pay/" + sess.ID + "/embed?origin=https://evil.example", "/pay/" + sess.ID},
		{"/nowhere", ""},
	} {
		p := getPage(t, srv.URL+tc.path, "Accept-Language", "ja")
		f := switcherForm(t, tc.path, p)
		ret, ok := f.Find(`input[name="return"]`).Attr("value")
		if ret != tc.ret || ok != (tc.ret != "") {
			t.Errorf("%s: return %q, want %q", tc.path, ret, tc.ret)
		}
	}
	// The forms' own refusal pages carry it too.
	b := visit(t, srv.URL+"/pay/"+sess.ID)
	for _, tc := range []struct {
		name, path string
		b          shopperBrowser
		form       url.Values
		status     int
		ret        string
	}{
		{"refused form", "/pay/" + sess.ID + "/simulate", shopperBrowser{cookie: b.cookie, token: "forged"},
			url.Values{"outcome": {"succeed"}}, http.StatusForbidden, "/pay/" + sess.ID},
		{"unknown outcome", "/pay/" + sess.ID + "/simulate", b, url.Values{"outcome": {"refund"}}, http.StatusBadRequest, "/pay/" + sess.ID},
		{"unknown language", "/locale", b, url.Values{"locale": {"xx"}, "return": {"/pay/" + sess.ID + "/cancel"}},
			http.StatusBadRequest, "/pay/" + sess.ID + "/cancel"},
	} {
		p := postPage(t, tc.b, srv.URL+tc.path, tc.form)
		if p.resp.StatusCode != tc.status {
			t.Errorf("%s: HTTP %d, want %d", tc.name, p.resp.StatusCode, tc.status)
		}
		f := switcherForm(t, tc.name, p)
		if ret := f.Find(`input[name="return"]`).AttrOr("value", ""); ret != tc.ret {
			t.Errorf("%s: return %q, want %q", tc.name, ret, tc.ret)
		}
	}
}

// A choice made with the switcher is kept in the cookie, follows the
// shopper to the return pages, and costs a cookie write only when it changes.
func TestLocaleSwitcherKeepsTheChoice(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		base := "/pay/" + sess.ID
		b := visit(t, srv.URL+base)
		resp, chosen := b.choose(t, srv.URL, "de", base+"/success")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"/success" {
			t.Fatalf("switcher: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var set *http.Cookie
		for _, c := range resp.Cookies() {
			set = c
		}
		if set == nil || set.Name != "__Host-paypage" || !set.Secure || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode ||
			set.Path != "/" || set.Domain != "" {
			t.Fatalf("the choice was not stored in the shopper's cookie: %+v", set)
		}
		for _, path := range []string{"", "/success", "/pending", "/cancel"} {
			p := getPage(t, srv.URL+base+path, "Cookie", chosen.cookie, "Accept-Language", "fr")
			if htmlLang(p) != "de" || len(p.resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("%s: lang %q after choosing Deutsch, %d Set-Cookie", path, htmlLang(p), len(p.resp.Header.Values("Set-Cookie")))
			}
			if tok := p.doc.Find(`input[name="csrf"]`).AttrOr("value", ""); tok != b.token {
				t.Errorf("%s: choosing a language changed the CSRF token", path)
			}
		}
		if resp, _ := chosen.choose(t, srv.URL, "de", base); resp.StatusCode != http.StatusSeeOther || len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("choosing the same language again: HTTP %d, %d Set-Cookie", resp.StatusCode, len(resp.Header.Values("Set-Cookie")))
		}
		// Codes are matched case-insensitively and kept in their own spelling.
		resp, chosen = chosen.choose(t, srv.URL, "PT-br", base)
		if p := getPage(t, srv.URL+base, "Cookie", chosen.cookie); resp.StatusCode != http.StatusSeeOther || htmlLang(p) != "pt-BR" {
			t.Errorf("PT-br: HTTP %d, lang %q", resp.StatusCode, htmlLang(p))
		}
		// From a page with nowhere of ours to go back to: the site's root.
		if resp, _ := chosen.choose(t, srv.URL, "ja", ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("no return path: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// What the switcher refuses, it refuses whole: a forged post is a 403, an
// unknown language or a return path that is not one of ours is a 400 that
// names it, and in every case the cookie is left as it was.
func TestLocaleSwitcherRefuses(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		base := "/pay/" + sess.ID
		_, b := visit(t, srv.URL+base).choose(t, srv.URL, "de", base)
		unchanged := func(what string, sent shopperBrowser, resp *http.Response) {
			t.Helper()
			for _, c := range resp.Cookies() {
				// Only a browser without a cookie gets one: the token of the
				// refusal page's own switcher, without the refused choice.
				if p := getPage(t, srv.URL+base, "Cookie", c.Name+"="+c.Value); sent.cookie != "" || htmlLang(p) == "ja" {
					t.Errorf("%s: the answer set a cookie (page now in %q)", what, htmlLang(p))
				}
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("%s: redirected to %q", what, loc)
			}
			if p := getPage(t, srv.URL+base, "Cookie", b.cookie); htmlLang(p) != "de" {
				t.Errorf("%s: the page is now in %q", what, htmlLang(p))
			}
		}
		form := func() url.Values { return url.Values{"locale": {"ja"}, "return": {base}} }
		for _, tc := range []struct {
			name   string
			b      shopperBrowser
			form   url.Values
			header []string
		}{
			{"no token", shopperBrowser{cookie: b.cookie}, form(), nil},
			{"no cookie", shopperBrowser{token: b.token}, form(), nil},
			{"wrong token", b, url.Values{"locale": {"ja"}, "return": {base}, "csrf": {"x" + b.token}}, nil},
			{"cross-site", b, form(), []string{"Sec-Fetch-Site", "cross-site"}},
			{"foreign origin", b, form(), []string{"Origin", "https://evil.example", "Sec-Fetch-Site", ""}},
		} {
			resp := tc.b.post(t, srv.URL+"/locale", tc.form, tc.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: HTTP %d, want 403", tc.name, resp.StatusCode)
			}
			unchanged(tc.name, tc.b, resp)
		}

		for _, bad := range []string{"xx", "", "auto", "de-AT", "en_US", "de\x00", strings.Repeat("a", 5000), `<script>alert(1)</script>`} {
			resp, _ := b.choose(t, srv.URL, bad, base)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("locale %.20q: HTTP %d, want 400", bad, resp.StatusCode)
			}
			unchanged("locale "+bad[:min(len(bad), 20)], b, resp)
		}
		de := locales.For("de")
		p := postPage(t, b, srv.URL+"/locale", url.Values{"locale": {"<script>alert(1)</script>"}, "return": {base}})
		body := strings.Join(strings.Fields(p.doc.Find("main").Text()), " ")
		if htmlLang(p) != "de" || p.resp.StatusCode != http.StatusBadRequest || strings.Contains(p.body, "<script>alert") ||
			!strings.Contains(body, de.T("error.invalid_locale.body", map[string]any{"Locale": "<script>alert(1)</script>"})) {
			t.Errorf("the 400 page does not name the refused language in the shopper's own: %q", body)
		}
		if ret := p.testid("locale-switcher").Find(`input[name="return"]`).AttrOr("value", ""); ret != base {
			t.Errorf("the 400 page's switcher returns to %q, want %q", ret, base)
		}

		for _, ret := range []string{
			"https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example",
			"javascript:alert(1)", "/pay/../evil", base + "/../../evil", base + "?next=//evil.example", base + "#x",
			base + "/simulate", base + "/embed", base + "%2F%2Fevil.example", base + "\r\nLocation: https://evil.example",
			" " + base, base + "/success/", "/pay/" + strings.Repeat("a", 100), "/pay/cs_test_", "/PAY/" + sess.ID,
			"/healthz", "/v1/checkout/sessions",
		} {
			resp, _ := b.choose(t, srv.URL, "ja", ret)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("return %q: HTTP %d, want 400", ret, resp.StatusCode)
			}
			unchanged("return "+ret, b, resp)
		}
		p = postPage(t, b, srv.URL+"/locale", url.Values{"locale": {"ja"}, "return": {"//evil.example"}})
		body = strings.Join(strings.Fields(p.doc.Find("main").Text()), " ")
		if !strings.Contains(body, de.T("error.bad_request.body", map[string]any{"Field": "return"})) || htmlLang(p) != "de" {
			t.Errorf("the 400 page does not name the refused field: %q", body)
		}
	})
}

// postPage posts a form as the shopper's browser and parses the answer.
func postPage(t *testing.T, b shopperBrowser, rawURL string, form url.Values) pageResult {
	t.Helper()
	form.Set("csrf", b.token)
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Cookie", b.cookie)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := doc.Html()
	return pageResult{resp: resp, body: html, doc: doc}
}

// Error pages follow the same order: the choice, then the session's locale
// when the path names a session, then the browser.
func TestLocaleErrorPagesFollowTheOrder(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		ja := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "ja"})
		_, chosen := visit(t, srv.URL+"/pay/"+ja.ID).choose(t, srv.URL, "de", "/pay/"+ja.ID)

		for _, tc := range []struct {
			name, path, want string
			header           []string
		}{
			{"unknown session, browser", "/pay/cs_test_nope", "ko", []string{"Accept-Language", "ko"}},
			{"unknown session, choice", "/pay/cs_test_nope", "de", []string{"Accept-Language", "ko", "Cookie", chosen.cookie}},
			{"unknown route", "/nowhere", "ko", []string{"Accept-Language", "ko"}},
			{"unknown page of a session: its locale", "/pay/" + ja.ID + "/nothing", "ja", []string{"Accept-Language", "ko"}},
			{"unknown page of a session: the choice", "/pay/" + ja.ID + "/nothing", "de", []string{"Accept-Language", "ko", "Cookie", chosen.cookie}},
		} {
			p := getPage(t, srv.URL+tc.path, tc.header...)
			if p.resp.StatusCode != http.StatusNotFound || htmlLang(p) != tc.want {
				t.Errorf("%s: HTTP %d lang %q, want 404 in %q", tc.name, p.resp.StatusCode, htmlLang(p), tc.want)
			}
		}
		// A refused form of a Japanese session answers in Japanese, though
		// the browser asks for Korean.
		req, _ := http.NewRequest("POST", srv.URL+"/pay/"+ja.ID+"/simulate", strings.NewReader("outcome=succeed"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "ko")
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || doc.Find("html").AttrOr("lang", "") != "ja" {
			t.Errorf("refused form: HTTP %d lang %q, want 403 in ja", resp.StatusCode, doc.Find("html").AttrOr("lang", ""))
		}
	})
}

// latinWordRE finds words in the Latin script: on a page in a language
// written in another script, each is English left behind (or a name).
var latinWordRE = regexp.MustCompile(`\p{Latin}{2,}`)

// latinAllowed is what a page in another script may show in Latin letters:
// the product's name, session and request ids, and what CLDR itself writes
// in Latin for some of these locales (the time zone, ISO currency codes as
// symbols in Ukrainian, AM/PM in Urdu and Hindi).
var latinAllowed = regexp.MustCompile(`\bpaypage\b|\b(cs_(test|live)|req)_[0-9A-Za-z_-]+|\b(UTC|(?i:am|pm)|[A-Z]{3})\b`)

// englishFragments returns the literal pieces of the English catalog that
// are three words or longer: none may appear on a page in another language.
func englishFragments(t *testing.T) []string {
	t.Helper()
	buf, err := os.ReadFile("../locales/translations/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf, &raw); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			texts = append(texts, s)
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			t.Fatal(err)
		}
		for _, f := range forms {
			texts = append(texts, f)
		}
	}
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}`)
	var out []string
	for _, s := range texts {
		for _, frag := range placeholder.Split(s, -1) {
			if frag = strings.TrimSpace(frag); len(strings.Fields(frag)) >= 3 {
				out = append(out, frag)
			}
		}
	}
	return out
}

// shopperText is what a shopper reads or hears on a page: its text (less
// the switcher's language names, each in its own language) and the
// attributes that carry words.
func shopperText(doc *goquery.Document) []string {
	doc = goquery.CloneDocument(doc)
	doc.Find("script, style, select option").Remove()
	out := []string{doc.Find("title").Text(), doc.Find("body").Text()}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			switch {
			case a.Key == "alt", a.Key == "title", a.Key == "aria-label", a.Key == "placeholder",
				a.Key == "data-template", a.Key == "data-texts", a.Key == "data-stayed":
				out = append(out, a.Val)
			}
		}
	})
	return out
}

// No English is left on any page in another language: every state, the
// return pages, the error pages. Merchant data here is in Japanese and
// Arabic, so any Latin word on a page in a non-Latin script is ours.
func TestLocaleNoEnglishLeftOnPages(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	ctx := context.Background()
	m := &store.Merchant{Name: "珈琲店", RecoveryEnabled: true, AllowedOrigins: store.StringList{"https://shop.example"}}
	if _, err := srv.Store.CreateMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	unit, zero := int64(2400), int64(0)
	create := func(live bool, mod func(*store.SessionParams)) string {
		t.Helper()
		p := store.SessionParams{Currency: "eur", ClientReferenceID: "٤٢",
			CancelURL: "https://shop.example/cart", SuccessURL: "https://shop.example/ok",
			LineItems: []store.LineItemParams{
				{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "豆", Description: "焙煎"}}},
				{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "会員"},
					Recurring: &store.Recurring{Interval: "week", IntervalCount: 2}}},
			},
			Fees: []store.AdjustmentParams{{Type: store.AdjustDiscount, Label: "割引", Amount: 100},
				{Type: store.AdjustShipping, Label: "配送", Amount: 300}, {Type: store.AdjustTax, Label: "税", Amount: 200}},
		}
		if mod != nil {
			mod(&p)
		}
		sess, err := srv.Store.CreateSession(ctx, m, live, &p)
		if err != nil {
			t.Fatal(err)
		}
		return sess.ID
	}
	move := func(id string, trs ...store.Transition) string {
		for _, tr := range trs {
			handlertest.TransitionTo(t, srv, id, tr)
		}
		return id
	}
	succeed := store.Transition{Action: store.ActionSucceed, Source: "api", PaymentMethod: "card", Provider: "銀行"}
	open := create(false, nil)
	paid := move(create(false, nil), succeed)
	processing := move(create(false, nil), store.Transition{Action: store.ActionProcess, Source: "api"})
	expired := move(create(false, nil), store.Transition{Action: store.ActionExpire, Source: "api"})
	child, err := srv.Store.Recover(ctx, expired)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, id := range []string{open, paid, processing} {
		for _, sub := range []string{"", "/success", "/cancel", "/pending"} {
			paths = append(paths, "/pay/"+id+sub)
		}
	}
	for _, id := range []string{
		expired, child.ID,
		create(false, func(p *store.SessionParams) { p.ExpiresAt = srv.Store.Now().Add(4 * time.Minute).Unix() }),
		create(false, func(p *store.SessionParams) {
			p.LineItems = p.LineItems[:1]
			p.LineItems[0].PriceData.UnitAmount = &zero
			p.Fees = nil
		}),
		create(true, nil),
		move(create(true, nil), store.Transition{Action: store.ActionProcess, Source: "api", Provider: "銀行",
			NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds"}}),
		move(create(false, nil), store.Transition{Action: store.ActionFail, Source: "api", FailureReason: "card_declined"}),
		move(create(false, nil), store.Transition{Action: store.ActionCancel, Source: "api"}),
		move(create(false, nil), succeed, store.Transition{Action: store.ActionRefund, Source: "api", Refund: &store.RefundParams{Amount: 500}},
			store.Transition{Action: store.ActionRefund, Source: "api", Refund: &store.RefundParams{Amount: 500, Status: "pending"}}),
		move(create(false, func(p *store.SessionParams) {
			p.AfterCompletion = &store.AfterCompletion{Type: "hosted", CustomMessage: "ありがとう"}
		}), succeed),
	} {
		paths = append(paths, "/pay/"+id)
	}
	for _, id := range []string{open, paid, processing, expired} {
		paths = append(paths, "/pay/"+id+"/embed?origin=https://shop.example")
	}
	paths = append(paths, "/pay/cs_test_nope", "/nowhere", "/pay/"+open+"/embed?origin=https://evil.example")

	english := englishFragments(t)
	for _, l := range locales.All() {
		if strings.HasPrefix(l.Code, "en") {
			continue
		}
		p := locales.For(l.Code)
		nonLatin := !latinWordRE.MatchString(p.T("checkout.order_summary") + p.T("language.label"))
		t.Run(l.Code, func(t *testing.T) {
			for _, path := range paths {
				page := getPage(t, srv.URL+path, "Accept-Language", l.Lang)
				if htmlLang(page) != p.Lang() {
					t.Fatalf("%s: lang %q", path, htmlLang(page))
				}
				for _, text := range shopperText(page.doc) {
					text = strings.Join(strings.Fields(text), " ")
					for _, frag := range english {
						if strings.Contains(text, frag) {
							t.Errorf("%s: English %q on the page", path, frag)
						}
					}
					if !nonLatin {
						continue
					}
					rest := latinAllowed.ReplaceAllString(text, " ")
					if loc := latinWordRE.FindStringIndex(rest); loc != nil {
						t.Errorf("%s: Latin word %q in …%s…", path, rest[loc[0]:loc[1]], rest[max(0, loc[0]-40):min(len(rest), loc[1]+40)])
					}
				}
			}
		})
	}
}
