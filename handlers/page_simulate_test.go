package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// shopperBrowser is what a browser brings to a form post: the cookie and
// the token from the page it came from. (Go's cookie jar would not send a
// Secure cookie over the tests' plain http, so the tests carry it.)
type shopperBrowser struct {
	cookie string // "__Host-paypage=…"
	token  string
}

// visit loads a page like a browser and keeps its cookie and form token.
func visit(t *testing.T, rawURL string) shopperBrowser {
	t.Helper()
	p := getPage(t, rawURL)
	var b shopperBrowser
	for _, c := range p.resp.Cookies() {
		if c.Name == "__Host-paypage" {
			b.cookie = c.Name + "=" + c.Value
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie attributes: %+v", c)
			}
		}
	}
	b.token = p.doc.Find(`form input[name="csrf"]`).First().AttrOr("value", "")
	if b.cookie == "" || b.token == "" {
		t.Fatalf("%s: no cookie (%q) or no form token (%q)", rawURL, b.cookie, b.token)
	}
	return b
}

// post sends a form as a same-origin browser does: Sec-Fetch-Site
// same-origin, and Origin "null" (the pages' no-referrer policy hides it).
func (b shopperBrowser) post(t *testing.T, rawURL string, form url.Values, header ...string) *http.Response {
	t.Helper()
	if b.token != "" && form.Get("csrf") == "" {
		form.Set("csrf", b.token)
	}
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "null")
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	resp.Body.Close()
	return resp
}

// The test panel's outcomes go through the store's transition function and
// lead to the page that shows them.
func TestSimulateOutcomes(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		for _, tc := range []struct {
			outcome       string
			before        *store.Transition
			free          bool
			to            string // where the shopper is sent, after /pay/<id>
			status, pay   string
			failureReason string
		}{
			{outcome: "succeed", to: "/success", status: "complete", pay: "paid"},
			{outcome: "decline", to: "", status: "open", pay: "failed", failureReason: "card_declined"},
			{outcome: "confirm", to: "/pending", status: "processing", pay: "pending"},
			{outcome: "succeed", before: &store.Transition{Action: store.ActionProcess, Source: "test_panel"},
				to: "/pending", status: "complete", pay: "paid"},
			{outcome: "decline", before: &store.Transition{Action: store.ActionProcess, Source: "test_panel"},
				to: "", status: "open", pay: "failed", failureReason: "card_declined"},
			{outcome: "succeed", before: &store.Transition{Action: store.ActionFail, Source: "test_panel"},
				to: "/success", status: "complete", pay: "paid"},
			{outcome: "succeed", free: true, to: "/success", status: "complete", pay: "no_payment_required"},
		} {
			p := store.SessionParams{}
			if tc.free {
				zero := int64(0)
				p.LineItems = []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &zero,
					ProductData: &store.ProductData{Name: "Sample"}}}}
			}
			sess := handlertest.CreateSession(t, srv, false, p)
			if tc.before != nil {
				handlertest.TransitionTo(t, srv, sess.ID, *tc.before)
			}
			base := srv.URL + "/pay/" + sess.ID
			b := visit(t, base)
			resp := b.post(t, base+"/simulate", url.Values{"outcome": {tc.outcome}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+sess.ID+tc.to {
				t.Errorf("%s: HTTP %d to %q, want 303 to %q", tc.outcome, resp.StatusCode, resp.Header.Get("Location"), "/pay/"+sess.ID+tc.to)
			}
			got, err := srv.Store.Session(context.Background(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status || got.PaymentStatus != tc.pay || got.FailureReason != tc.failureReason {
				t.Errorf("%s: stored %s/%s (%q), want %s/%s", tc.outcome, got.Status, got.PaymentStatus, got.FailureReason, tc.status, tc.pay)
			}
			events, err := srv.Store.Events(context.Background(), sess.ID)
			if err != nil || events[len(events)-1].Source != "test_panel" {
				t.Errorf("%s: the change was not recorded as the test panel's: %v", tc.outcome, events)
			}
		}
	})
}

// A POST that fails any CSRF check is refused with a 403 page and changes
// nothing; live sessions have no test panel at all.
func TestSimulateRefusesForgedPosts(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		base := srv.URL + "/pay/" + sess.ID
		b := visit(t, base)
		succeed := func() url.Values { return url.Values{"outcome": {"succeed"}} }
		for _, tc := range []struct {
			name   string
			b      shopperBrowser
			form   url.Values
			header []string
		}{
			{"no cookie", shopperBrowser{token: b.token}, succeed(), nil},
			{"no token", shopperBrowser{cookie: b.cookie}, succeed(), nil},
			{"wrong token", b, url.Values{"outcome": {"succeed"}, "csrf": {"x" + b.token}}, nil},
			{"another shopper's token", shopperBrowser{cookie: b.cookie, token: visit(t, base).token}, succeed(), nil},
			{"tampered cookie", shopperBrowser{cookie: b.cookie + "x", token: b.token}, succeed(), nil},
			{"cross-site request", b, succeed(), []string{"Sec-Fetch-Site", "cross-site"}},
			{"same-site request", b, succeed(), []string{"Sec-Fetch-Site", "same-site"}},
			{"foreign origin", b, succeed(), []string{"Origin", "https://evil.example", "Sec-Fetch-Site", ""}},
		} {
			resp := tc.b.post(t, base+"/simulate", tc.form, tc.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: HTTP %d, want 403", tc.name, resp.StatusCode)
			}
		}
		got, _ := srv.Store.Session(context.Background(), sess.ID)
		if got.Version != sess.Version || got.Status != store.StatusOpen {
			t.Fatalf("a refused post changed the session: %s v%d", got.Status, got.Version)
		}
		// Our own origin, as browsers without the no-referrer policy send it.
		if resp := b.post(t, base+"/simulate", url.Values{"outcome": {"decline"}}, "Origin", srv.URL); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("same origin: HTTP %d", resp.StatusCode)
		}
		if resp := b.post(t, base+"/simulate", url.Values{"outcome": {"refund"}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown outcome: HTTP %d, want 400", resp.StatusCode)
		}

		live := handlertest.CreateSession(t, srv, true, store.SessionParams{})
		if resp := b.post(t, srv.URL+"/pay/"+live.ID+"/simulate", succeed()); resp.StatusCode != http.StatusNotFound {
			t.Errorf("live session: HTTP %d, want 404", resp.StatusCode)
		}
		if p := getPage(t, srv.URL+"/pay/"+live.ID); p.doc.Find("main form").Length() != 0 {
			t.Error("a live session's page has a test panel")
		}
		// A session that moved on meanwhile: back to its page, unchanged.
		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionCancel, Source: "api"})
		resp := b.post(t, base+"/simulate", succeed())
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+sess.ID {
			t.Errorf("canceled session: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// Every page carries the language switcher's form, so a first visit sets
// the cookie (its CSRF token) once; a returning shopper's cookie is read
// and never rewritten, on any page. Answers without a form set none.
func TestCookieWrittenOnceAndOnlyForPages(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	paid := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	handlertest.TransitionTo(t, srv, paid.ID, store.Transition{Action: store.ActionSucceed, Source: "api"})
	for _, path := range []string{"/healthz", "/v1/openapi.json", "/pay/" + sess.ID + "/status",
		"/pay/" + sess.ID + "/embed?origin=http://127.0.0.2:9999"} {
		if p := getPage(t, srv.URL+path); len(p.resp.Cookies()) != 0 {
			t.Errorf("%s sets a cookie", path)
		}
	}
	b := visit(t, srv.URL+"/pay/"+sess.ID)
	for _, path := range []string{"/pay/" + sess.ID, "/pay/" + paid.ID, "/pay/" + paid.ID + "/success",
		"/pay/" + paid.ID + "/cancel", "/pay/" + paid.ID + "/pending", "/pay/cs_test_nope", "/nowhere"} {
		if p := getPage(t, srv.URL+path); len(p.resp.Header.Values("Set-Cookie")) != 1 {
			t.Errorf("first visit to %s: %d Set-Cookie, want 1", path, len(p.resp.Header.Values("Set-Cookie")))
		}
		p := getPage(t, srv.URL+path, "Cookie", b.cookie)
		if len(p.resp.Header.Values("Set-Cookie")) != 0 || p.doc.Find(`input[name="csrf"]`).AttrOr("value", "") != b.token {
			t.Errorf("%s: the cookie was rewritten or the token changed for a returning shopper", path)
		}
	}
}

func TestRecoverExpiredSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
		base := srv.URL + "/pay/" + sess.ID
		b := visit(t, base)
		resp := b.post(t, base+"/recover", url.Values{})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/pay/cs_test_") || loc == "/pay/"+sess.ID {
			t.Fatalf("recover: HTTP %d to %q", resp.StatusCode, loc)
		}
		child, err := srv.Store.Session(context.Background(), strings.TrimPrefix(loc, "/pay/"))
		if err != nil || child.ParentID != sess.ID || child.Status != store.StatusOpen || child.AmountTotal != sess.AmountTotal {
			t.Fatalf("child: %+v, %v", child, err)
		}
		if p := getPage(t, srv.URL+loc); !strings.Contains(p.testid("status").Text(), "earlier one expired") {
			t.Errorf("the child's page does not say it replaces an expired checkout")
		}
		// A second click finds the same open child.
		if again := b.post(t, base+"/recover", url.Values{}); again.Header.Get("Location") != loc {
			t.Errorf("second recover went to %q, want %q", again.Header.Get("Location"), loc)
		}
		if resp := (shopperBrowser{cookie: b.cookie}).post(t, base+"/recover", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("recover without token: HTTP %d", resp.StatusCode)
		}
		// Not recoverable: the shopper stays on the session's own page.
		off := false
		locked := handlertest.CreateSession(t, srv, false, store.SessionParams{RecoveryEnabled: &off})
		handlertest.TransitionTo(t, srv, locked.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
		if p := getPage(t, srv.URL+"/pay/"+locked.ID); p.testid("recover").Length() != 0 || !strings.Contains(p.body, "for a new payment link") {
			t.Error("an expired session without recovery offers it")
		}
		resp = b.post(t, srv.URL+"/pay/"+locked.ID+"/recover", url.Values{})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+locked.ID {
			t.Errorf("unrecoverable: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
