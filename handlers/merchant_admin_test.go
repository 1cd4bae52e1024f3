package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// testClock is an injectable Store.Now for tests that move time.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// The operator's answer to a leaked key: a roll with an overlap. Both keys
// work until it ends; from that second the old one is refused like an
// unknown key, the new one goes on. No sleeping: the store's clock moves.
func TestRolledKeyIsRefusedWhenTheOverlapEnds(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		clk := &testClock{now: time.Now()}
		srv.Store.Now = clk.Now
		ctx := store.WithActor(context.Background(), "ops")
		rolled, err := srv.Store.RollKey(ctx, srv.Merchant.ID, true, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		api := newAPIClient(t, srv, srv.Keys.Live)
		status := func(key string) int {
			return api.with(key).do("GET", "/v1/checkout/sessions", "").Status
		}
		clk.Advance(time.Hour - time.Second)
		if old, cur := status(srv.Keys.Live), status(rolled.Secret); old != 200 || cur != 200 {
			t.Fatalf("during the overlap: old key %d, new key %d; want both 200", old, cur)
		}
		clk.Advance(time.Second)
		r := api.with(srv.Keys.Live).do("GET", "/v1/checkout/sessions", "")
		if r.Status != http.StatusUnauthorized || r.err()["type"] != "invalid_request_error" {
			t.Fatalf("the old key after the overlap: %d %s", r.Status, r.Raw)
		}
		if cur, test := status(rolled.Secret), status(srv.Keys.Test); cur != 200 || test != 200 {
			t.Fatalf("after the overlap: new key %d, test key %d; want 200", cur, test)
		}
	})
}

// Signed payment events verify with either webhook secret while a roll's
// overlap lasts, and with the new one only afterwards.
func TestRolledWebhookSecretVerifiesDuringTheOverlap(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		clk := &testClock{now: time.Now()}
		srv.Store.Now = clk.Now
		old := srv.Merchant.WebhookSecret
		m, err := srv.Store.RollWebhookSecret(context.Background(), srv.Merchant.ID, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{ExpiresAt: clk.Now().Add(48 * time.Hour).Unix()})
		// Each event is one the session's state accepts, so that only the
		// signature decides.
		event := func(n int, typ, secret string) int {
			t.Helper()
			body := []byte(`{"id":"evt_roll_` + string(rune('a'+n)) + `","type":"` + typ + `","session":"` + sess.ID + `"}`)
			resp, err := http.DefaultClient.Do(signedRequest(srv.URL, secret, clk.Now().Unix(), body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		clk.Advance(24*time.Hour - time.Minute)
		if got := event(0, "payment.processing", old); got != 200 {
			t.Errorf("the old secret during the overlap: %d, want 200", got)
		}
		if got := event(1, "payment.failed", m.WebhookSecret); got != 200 {
			t.Errorf("the new secret during the overlap: %d, want 200", got)
		}
		clk.Advance(time.Minute)
		if got := event(2, "payment.processing", old); got != http.StatusUnauthorized {
			t.Errorf("the old secret after the overlap: %d, want 401", got)
		}
		if got := event(3, "payment.processing", m.WebhookSecret); got != 200 {
			t.Errorf("the new secret after the overlap: %d, want 200", got)
		}
	})
}

// A disabled merchant's keys and webhook secret get 401, its pages a 403
// "unavailable" page in the shopper's language; enabling it brings
// everything back, nothing lost.
func TestDisabledMerchantIsRefusedAndItsPagesUnavailable(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		if _, err := srv.Store.SetMerchantDisabled(context.Background(), srv.Merchant.ID, true); err != nil {
			t.Fatal(err)
		}
		api := newAPIClient(t, srv, srv.Keys.Test)
		for _, key := range []string{srv.Keys.Test, srv.Keys.Live} {
			if r := api.with(key).do("GET", "/v1/account", ""); r.Status != http.StatusUnauthorized {
				t.Errorf("a disabled merchant's key: %d %s", r.Status, r.Raw)
			}
		}
		body := []byte(`{"id":"evt_disabled","type":"payment.processing","session":"` + sess.ID + `"}`)
		resp, err := http.DefaultClient.Do(signedRequest(srv.URL, srv.Merchant.WebhookSecret, time.Now().Unix(), body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a disabled merchant's signed event: %d, want 401", resp.StatusCode)
		}

		for _, path := range []string{"", "/success", "/pending", "/cancel", "/embed?origin=http://127.0.0.2:9999"} {
			p := getPage(t, srv.URL+"/pay/"+sess.ID+path, "Accept-Language", "de")
			if p.resp.StatusCode != http.StatusForbidden || p.main("data-status") != "error" {
				t.Errorf("%s: %d %q, want the 403 error page", path, p.resp.StatusCode, p.main("data-status"))
			}
			if h1 := strings.TrimSpace(p.doc.Find("h1").Text()); h1 != "Diese Bezahlseite ist nicht verfügbar" {
				t.Errorf("%s: heading %q, want the German unavailable title", path, h1)
			}
			if strings.Contains(p.body, "Mug") || p.testid("pay").Length() > 0 {
				t.Errorf("%s: the unavailable page shows the order or a way to pay", path)
			}
		}

		if _, err := srv.Store.SetMerchantDisabled(context.Background(), srv.Merchant.ID, false); err != nil {
			t.Fatal(err)
		}
		if p := getPage(t, srv.URL+"/pay/"+sess.ID); p.resp.StatusCode != 200 || p.main("data-status") != "open" {
			t.Errorf("after enable: %d %q", p.resp.StatusCode, p.main("data-status"))
		}
		if r := api.do("GET", "/v1/checkout/sessions/"+sess.ID, ""); r.Status != 200 {
			t.Errorf("after enable, the test key: %d", r.Status)
		}
	})
}

// The operator's `merchant update` (the store's UpdateMerchant) changes
// what the merchant's pages show at their next request.
func TestUpdatedBrandingShowsOnThePages(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		before := getPage(t, srv.URL+"/pay/"+sess.ID)
		if strings.Contains(before.body, "#0b6e4f") {
			t.Fatal("the colour is on the page before the update")
		}
		_, err := srv.Store.UpdateMerchant(store.WithActor(context.Background(), "ops"), srv.Merchant.ID, func(m *store.Merchant) error {
			m.Appearance.BrandColor, m.Appearance.Theme = "#0b6e4f", "light"
			m.Appearance.LogoURL = "https://shop.example/logo.png"
			m.DisplayName = "Fika Coffee"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p := getPage(t, srv.URL+"/pay/"+sess.ID)
		if !strings.Contains(p.body, "--brand:#0b6e4f") {
			t.Error("the new brand colour is not on the page")
		}
		if p.doc.Find(`img[src="https://shop.example/logo.png"]`).Length() != 1 {
			t.Error("the new logo is not on the page")
		}
		if !strings.Contains(p.doc.Find("h1").Text(), "Fika Coffee") {
			t.Errorf("heading %q lacks the new display name", p.doc.Find("h1").Text())
		}
	})
}

// GET and POST /v1/account: the merchant's own branding and support
// contacts, Stripe's Account shape, checked as the operator's changes are.
func TestAccountAPI(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		test := newAPIClient(t, srv, srv.Keys.Test)
		live := test.with(srv.Keys.Live)

		got := test.mustOK("GET", "/v1/account", "")
		if got["id"] != srv.Merchant.ID || got["object"] != "account" {
			t.Fatalf("GET /v1/account: %v", got)
		}
		if r := test.do("POST", "/v1/account", "settings[branding][brand_color]=%23123456"); r.Status != 400 || r.err()["code"] != "livemode_key_required" {
			t.Errorf("a test key changed the account: %d %s", r.Status, r.Raw)
		}
		for _, tc := range []struct{ body, param, code string }{
			{"settings[branding][brand_color]=red", "settings[branding][brand_color]", "parameter_invalid"},
			{"settings[branding][logo_url]=http://shop.example/l.png", "settings[branding][logo_url]", "parameter_invalid"},
			{"business_profile[support_email]=not-an-address", "business_profile[support_email]", "parameter_invalid"},
			{"business_profile[support_url]=javascript:alert(1)", "business_profile[support_url]", "parameter_invalid"},
			{"business_profile[terms_url]=http://shop.example/terms", "business_profile[terms_url]", "parameter_invalid"},
			{"business_profile[privacy_url]=javascript:alert(1)", "business_profile[privacy_url]", "parameter_invalid"},
			{"business_profile[name]=Evil", "business_profile[name]", "parameter_unknown"},
			{"settings[redirect_hosts][]=evil.example", "settings[redirect_hosts]", "parameter_unknown"},
		} {
			r := live.do("POST", "/v1/account", tc.body)
			if r.Status != 400 || r.err()["param"] != tc.param || r.err()["code"] != tc.code {
				t.Errorf("POST %s: %d %s, want 400 %s naming %s", tc.body, r.Status, r.Raw, tc.code, tc.param)
			}
		}

		got = live.mustOK("POST", "/v1/account", "settings[branding][brand_color]=%230b6e4f&settings[branding][theme]=dark"+
			"&business_profile[support_email]=help%40shop.example&business_profile[support_url]=https%3A%2F%2Fshop.example%2Fhelp"+
			"&business_profile[terms_url]=https%3A%2F%2Fshop.example%2Fterms&business_profile[privacy_url]=https%3A%2F%2Fshop.example%2Fprivacy")
		branding := got["settings"].(map[string]any)["branding"].(map[string]any)
		profile := got["business_profile"].(map[string]any)
		if branding["brand_color"] != "#0b6e4f" || branding["theme"] != "dark" || profile["support_email"] != "help@shop.example" ||
			profile["terms_url"] != "https://shop.example/terms" || profile["privacy_url"] != "https://shop.example/privacy" {
			t.Fatalf("after POST: %v", got)
		}
		// JSON too; an empty value clears a field, an absent one stays.
		got = live.mustOK("POST", "/v1/account", `{"settings":{"branding":{"theme":""}}}`)
		branding = got["settings"].(map[string]any)["branding"].(map[string]any)
		if _, ok := branding["theme"]; ok || branding["brand_color"] != "#0b6e4f" {
			t.Errorf("after clearing the theme: %v", branding)
		}

		entries, err := srv.Store.MerchantAudit(context.Background(), srv.Merchant.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantActor := "api:sk_live_…" + srv.Keys.Live[len(srv.Keys.Live)-4:]
		if len(entries) != 3 || entries[0].Actor != wantActor || entries[1].Actor != wantActor {
			t.Fatalf("audit: %+v, want two updates by %s", entries, wantActor)
		}
		var changes map[string]any
		json.Unmarshal(entries[1].Changes, &changes)
		if _, ok := changes["appearance[brand_color]"]; !ok {
			t.Errorf("the audited change lacks the colour: %s", entries[1].Changes)
		}
		p := getPage(t, srv.URL+"/pay/"+handlertest.CreateSession(t, srv, true, store.SessionParams{}).ID)
		if !strings.Contains(p.body, "#0b6e4f") || p.doc.Find(`a[href="https://shop.example/help"]`).Length() == 0 {
			t.Error("the merchant's new branding or support link is not on its page")
		}
		if p.doc.Find(`a[href="https://shop.example/terms"]`).Length() != 1 || p.doc.Find(`a[href="https://shop.example/privacy"]`).Length() != 1 {
			t.Error("the merchant's terms or privacy link is not on its page")
		}
	})
}
