package store_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestUpdateMerchantValidatesAsAtCreation(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		ctx := store.WithActor(t.Context(), "alice")
		created, _ := newMerchant(t, s, nil)
		m, err := s.Merchant(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			param string
			edit  func(*store.Merchant)
		}{
			{"name", func(m *store.Merchant) { m.Name = " " }},
			{"display_name", func(m *store.Merchant) { m.DisplayName = string(make([]rune, 101)) }},
			{"allowed_origin", func(m *store.Merchant) { m.AllowedOrigins = store.StringList{"https://shop.example/path"} }},
			{"redirect_host", func(m *store.Merchant) { m.RedirectHosts = store.StringList{"shop.example/x"} }},
			{"default_locale", func(m *store.Merchant) { m.DefaultLocale = "xx" }},
			{"support_email", func(m *store.Merchant) { m.SupportEmail = "Help <help@shop.example>" }},
			{"support_url", func(m *store.Merchant) { m.SupportURL = "http://shop.example/help" }},
			{"terms_url", func(m *store.Merchant) { m.TermsURL = "javascript:alert(1)" }},
			{"terms_url", func(m *store.Merchant) { m.TermsURL = "https://user:pw@shop.example/terms" }},
			{"privacy_url", func(m *store.Merchant) { m.PrivacyURL = "http://shop.example/privacy" }},
			{"privacy_url", func(m *store.Merchant) { m.PrivacyURL = "/privacy" }},
			{"appearance[brand_color]", func(m *store.Merchant) { m.Appearance.BrandColor = "red" }},
			{"appearance[logo_url]", func(m *store.Merchant) { m.Appearance.LogoURL = "javascript:alert(1)" }},
			{"appearance[theme]", func(m *store.Merchant) { m.Appearance.Theme = "neon" }},
			{"api_version", func(m *store.Merchant) { m.APIVersion = "paypage-1999-01-01" }},
		} {
			t.Run(tc.param, func(t *testing.T) {
				// The same rule refuses the value at creation...
				bad := &store.Merchant{Name: "Shop"}
				tc.edit(bad)
				_, err := s.CreateMerchant(ctx, bad)
				wantInvalid(t, err, tc.param)
				// ...and in an update, which then writes nothing.
				_, err = s.UpdateMerchant(ctx, m.ID, func(m *store.Merchant) error { tc.edit(m); return nil })
				wantInvalid(t, err, tc.param)
				got, err := s.Merchant(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, m) {
					t.Errorf("a refused update changed the merchant:\n got %+v\nwant %+v", got, m)
				}
			})
		}
		if n := countRows(t, s, "merchant_audit", "action = 'update'"); n != 0 {
			t.Errorf("%d refused updates were audited", n)
		}
	})
}

func TestUpdateMerchantStoresAndAuditsTheChange(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, clk := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		clk.Advance(time.Minute)
		ctx := store.WithActor(t.Context(), "alice")
		got, err := s.UpdateMerchant(ctx, m.ID, func(m *store.Merchant) error {
			m.Appearance.BrandColor = "#112233"
			m.AllowedOrigins = store.StringList{"HTTPS://Shop.Example:443"}
			m.DefaultLocale = "PT-br"
			m.SupportEmail = "help@shop.example"
			m.TermsURL, m.PrivacyURL = "https://shop.example/terms", "https://shop.example/privacy"
			m.APIVersion = store.APIVersionStripe
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.Merchant(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, stored) || stored.Appearance.BrandColor != "#112233" ||
			!slices.Equal(stored.AllowedOrigins, []string{"https://shop.example"}) || stored.DefaultLocale != "pt-BR" ||
			stored.APIVersion != store.APIVersionStripe || stored.TermsURL != "https://shop.example/terms" ||
			stored.PrivacyURL != "https://shop.example/privacy" {
			t.Fatalf("stored %+v, returned %+v", stored, got)
		}
		// Nothing changed: nothing recorded.
		if _, err := s.UpdateMerchant(ctx, m.ID, func(m *store.Merchant) error { m.DefaultLocale = "pt-br"; return nil }); err != nil {
			t.Fatal(err)
		}
		entries, err := s.MerchantAudit(ctx, m.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "update" || entries[1].Action != "create" {
			t.Fatalf("audit trail: %+v", entries)
		}
		e := entries[0]
		if e.Actor != "alice" || e.Created != clk.Unix() || e.MerchantID != m.ID {
			t.Errorf("audit entry %+v: want alice at %d", e, clk.Unix())
		}
		var changes map[string]store.Change
		if err := json.Unmarshal(e.Changes, &changes); err != nil {
			t.Fatal(err)
		}
		want := map[string]store.Change{
			"appearance[brand_color]": {To: "#112233"},
			"allowed_origins":         {To: []any{"https://shop.example"}},
			"default_locale":          {To: "pt-BR"},
			"support_email":           {To: "help@shop.example"},
			"terms_url":               {To: "https://shop.example/terms"},
			"privacy_url":             {To: "https://shop.example/privacy"},
			"api_version":             {From: store.APIVersionNative, To: store.APIVersionStripe},
		}
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("audited changes %v, want %v", changes, want)
		}
		if _, err := s.UpdateMerchant(ctx, "acct_missing", func(*store.Merchant) error { return nil }); !store.IsNotFound(err) {
			t.Errorf("update of an unknown merchant: %v", err)
		}
	})
}

func TestRolledKeyWorksUntilTheOverlapEnds(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, clk := newStore(t, url)
		m, keys := newMerchant(t, s, nil)
		ctx := store.WithActor(t.Context(), "ops")
		works := func(key string) bool {
			t.Helper()
			_, _, err := s.Authenticate(ctx, key)
			if err != nil && !store.IsNotFound(err) {
				t.Fatal(err)
			}
			return err == nil
		}

		rolled, err := s.RollKey(ctx, m.ID, true, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if want := clk.Now().Add(time.Hour).Unix(); rolled.OldExpiresAt != want {
			t.Errorf("old key expires at %d, want %d", rolled.OldExpiresAt, want)
		}
		clk.Advance(time.Hour - time.Second)
		if !works(keys.Live) || !works(rolled.Secret) {
			t.Fatal("during the overlap both live keys must work")
		}
		clk.Advance(time.Second)
		if works(keys.Live) {
			t.Error("the old live key still works after the overlap")
		}
		if !works(rolled.Secret) || !works(keys.Test) {
			t.Error("the new live key, or the untouched test key, stopped working")
		}

		// The default (no overlap): the old key stops at once.
		now, err := s.RollKey(ctx, m.ID, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if works(keys.Test) || !works(now.Secret) {
			t.Error("an immediate roll left the old test key working, or the new one not")
		}
		for _, d := range []time.Duration{-time.Second, store.MaxOverlap + time.Second} {
			_, err := s.RollKey(ctx, m.ID, false, d)
			wantInvalid(t, err, "expire_old_in")
		}
		if _, err := s.RollKey(ctx, "acct_missing", false, 0); !store.IsNotFound(err) {
			t.Errorf("roll for an unknown merchant: %v", err)
		}

		listed, err := s.APIKeys(ctx, m.ID)
		if err != nil || len(listed) != 4 {
			t.Fatalf("keys: %+v %v", listed, err)
		}
		entries, _ := s.MerchantAudit(ctx, m.ID, 10)
		if len(entries) != 3 || entries[0].Action != "roll_key" || entries[0].Actor != "ops" {
			t.Fatalf("audit trail: %+v", entries)
		}
		for _, e := range entries {
			if strings.Contains(string(e.Changes), rolled.Secret[8:]) || strings.Contains(string(e.Changes), now.Secret[8:]) {
				t.Errorf("the audit trail holds a secret key: %s", e.Changes)
			}
		}
	})
}

func TestDisabledMerchantKeysAreRefusedAndItsDataKept(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		ctx := store.WithActor(t.Context(), "ops")
		m, keys := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())

		got, err := s.SetMerchantDisabled(ctx, m.ID, true)
		if err != nil || !got.Disabled() {
			t.Fatalf("disable: %+v %v", got, err)
		}
		for _, key := range []string{keys.Test, keys.Live} {
			if _, _, err := s.Authenticate(ctx, key); !store.IsNotFound(err) {
				t.Errorf("a disabled merchant's key authenticated: %v", err)
			}
		}
		if stored, err := s.Merchant(ctx, m.ID); err != nil || !stored.Disabled() {
			t.Fatalf("the merchant reads as %+v, %v", stored, err)
		}
		getSession(t, s, sess.ID) // its sessions are kept

		if _, err := s.SetMerchantDisabled(ctx, m.ID, true); err != nil { // again: no change
			t.Fatal(err)
		}
		if got, err := s.SetMerchantDisabled(ctx, m.ID, false); err != nil || got.Disabled() {
			t.Fatalf("enable: %+v %v", got, err)
		}
		if _, _, err := s.Authenticate(ctx, keys.Test); err != nil {
			t.Errorf("an enabled merchant's key is refused: %v", err)
		}
		entries, _ := s.MerchantAudit(ctx, m.ID, 10)
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, []string{"enable", "disable", "create"}) {
			t.Errorf("audit trail %v", actions)
		}
	})
}

func TestRolledWebhookSecretVerifiesDuringTheOverlap(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, clk := newStore(t, url)
		ctx := store.WithActor(t.Context(), "ops")
		m, _ := newMerchant(t, s, nil)
		old := m.WebhookSecret

		rolled, err := s.RollWebhookSecret(ctx, m.ID, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.Merchant(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rolled.WebhookSecret == old || stored.WebhookSecret != rolled.WebhookSecret {
			t.Fatalf("new secret %q stored as %q (old %q)", rolled.WebhookSecret, stored.WebhookSecret, old)
		}
		if got := stored.WebhookSecrets(clk.Now().Add(24*time.Hour - time.Second)); !slices.Equal(got, []string{rolled.WebhookSecret, old}) {
			t.Errorf("during the overlap: %v", got)
		}
		if got := stored.WebhookSecrets(clk.Now().Add(24 * time.Hour)); !slices.Equal(got, []string{rolled.WebhookSecret}) {
			t.Errorf("after the overlap: %v", got)
		}
		again, err := s.RollWebhookSecret(ctx, m.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := again.WebhookSecrets(clk.Now()); !slices.Equal(got, []string{again.WebhookSecret}) {
			t.Errorf("an immediate roll keeps %v", got)
		}
		entries, _ := s.MerchantAudit(ctx, m.ID, 10)
		for _, e := range entries {
			for _, secret := range []string{old, rolled.WebhookSecret, again.WebhookSecret} {
				if strings.Contains(string(e.Changes), secret[6:]) {
					t.Errorf("the audit trail holds a webhook secret: %s", e.Changes)
				}
			}
		}
		if len(entries) != 3 {
			t.Errorf("audit trail: %+v", entries)
		}
	})
}

func TestListMerchants(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, clk := newStore(t, url)
		a, _ := newMerchant(t, s, nil)
		clk.Advance(time.Second)
		b, _ := newMerchant(t, s, func(m *store.Merchant) { m.Name = "Other" })
		got, err := s.ListMerchants(t.Context())
		if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
			t.Fatalf("list: %+v %v", got, err)
		}
	})
}
