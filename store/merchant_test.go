package store_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestAuthenticateResolvesAKeyToItsMerchantAndMode(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		a, aKeys := newMerchant(t, s, nil)
		b, bKeys := newMerchant(t, s, nil)
		flip := func(key string) string { // the same key with its last character changed
			last := key[len(key)-1]
			if last == 'a' {
				return key[:len(key)-1] + "b"
			}
			return key[:len(key)-1] + "a"
		}
		for _, tc := range []struct {
			name     string
			key      string
			merchant *store.Merchant // nil: refused
			livemode bool
		}{
			{"test key", aKeys.Test, a, false},
			{"live key", aKeys.Live, a, true},
			{"another merchant's test key", bKeys.Test, b, false},
			{"another merchant's live key", bKeys.Live, b, true},
			{"a key with one character changed", flip(aKeys.Test), nil, false},
			{"a test key presented as live", "sk_live_" + strings.TrimPrefix(aKeys.Test, "sk_test_"), nil, false},
			{"a key cut short", aKeys.Live[:len(aKeys.Live)-1], nil, false},
			{"a key with a trailing space", aKeys.Test + " ", nil, false},
			{"an unknown key", "sk_test_" + strings.Repeat("x", 40), nil, false},
			{"a publishable-looking key", "pk_test_" + strings.TrimPrefix(aKeys.Test, "sk_test_"), nil, false},
			{"an empty key", "", nil, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, livemode, err := s.Authenticate(t.Context(), tc.key)
				if tc.merchant == nil {
					wantCode(t, err, store.ENOTFOUND)
					if got != nil {
						t.Errorf("returned merchant %s for a bad key", got.ID)
					}
					return
				}
				if err != nil {
					t.Fatalf("authenticate: %v", err)
				}
				want, err := s.Merchant(t.Context(), tc.merchant.ID)
				if err != nil {
					t.Fatalf("merchant: %v", err)
				}
				if !reflect.DeepEqual(got, want) || livemode != tc.livemode {
					t.Errorf("got %+v livemode %v, want %+v livemode %v", got, livemode, want, tc.livemode)
				}
			})
		}
	})
}

func TestCreateMerchantStoresOnlyKeyHashes(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, keys := newMerchant(t, s, nil)
		if !strings.HasPrefix(keys.Test, "sk_test_") || !strings.HasPrefix(keys.Live, "sk_live_") || keys.Test[8:] == keys.Live[8:] {
			t.Fatalf("keys %q and %q: want distinct sk_test_ and sk_live_ keys", keys.Test, keys.Live)
		}
		var stored []string
		if err := s.DB().SelectContext(t.Context(), &stored, s.DB().Rebind(`SELECT hash || ' ' || last4 FROM api_keys
			WHERE merchant_id = ?`), m.ID); err != nil {
			t.Fatalf("read keys: %v", err)
		}
		if len(stored) != 2 {
			t.Fatalf("%d keys stored, want 2", len(stored))
		}
		for _, row := range stored {
			for _, key := range []string{keys.Test, keys.Live} {
				if strings.Contains(row, key[8:20]) {
					t.Errorf("stored row %q contains the secret %q", row, key)
				}
			}
		}
	})
}

func TestCanonicalOriginIsWhatBrowsersSend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://shop.example", "https://shop.example", true},
		{"https://Shop.Example/", "https://shop.example", true},
		{"HTTPS://shop.example:443", "https://shop.example", true},
		{"http://shop.example:80", "http://shop.example", true},
		{"https://shop.example:8443", "https://shop.example:8443", true},
		{"http://127.0.0.2:9999", "http://127.0.0.2:9999", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", true},
		{"", "", false},
		{"*", "", false},
		{"null", "", false},
		{"shop.example", "", false},
		{"ftp://shop.example", "", false},
		{"javascript:alert(1)", "", false},
		{"https://shop.example/path", "", false},
		{"https://shop.example?", "", false},
		{"https://shop.example#x", "", false},
		{"https://user:pw@shop.example", "", false},
		{"https://shop.example:99999x", "", false},
		{"https://shop.example; script-src *", "", false},
		{"https://shop.example,https://evil.example", "", false},
		{"https://bücher.example", "", false}, // browsers send the punycode form
		{"https://-shop.example", "", false},
	} {
		got, ok := store.CanonicalOrigin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("store.CanonicalOrigin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMerchantOriginsAreStoredAsBrowsersSendThem(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m := &store.Merchant{Name: "Shop", AllowedOrigins: store.StringList{"HTTPS://Shop.Example:443/", "http://127.0.0.2:8081"}}
		if _, err := s.CreateMerchant(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		got, err := s.Merchant(t.Context(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.StringList{"https://shop.example", "http://127.0.0.2:8081"}); !reflect.DeepEqual(got.AllowedOrigins, want) {
			t.Fatalf("origins stored as %v, want %v", got.AllowedOrigins, want)
		}
		// An origin the embed could never name in a header is refused now,
		// not silently unusable later.
		_, err = s.CreateMerchant(t.Context(), &store.Merchant{Name: "IDN", AllowedOrigins: store.StringList{"https://bücher.example"}})
		wantInvalid(t, err, "allowed_origin")
	})
}
