package locales

import (
	"slices"
	"strings"
	"testing"
)

// FuzzNegotiate: whatever the cookie, the session, the browser's
// Accept-Language (straight from the client) and the merchant say, the page
// gets a locale paypage has, the same one every time, and an explicit
// choice of a supported code is honoured as given.
func FuzzNegotiate(f *testing.F) {
	f.Add("", "auto", "de-AT,de;q=0.9,en;q=0.8", "")
	f.Add("pt", "fr", "ja", "it")
	f.Add("", "", "zh-Hant-HK;q=0.5, *;q=0.1", "en-GB")
	f.Add("", "AUTO", strings.Repeat("en-US;q=0.9,", 200), "xx")
	f.Add("\xff", "sr_Latn", "q=1;de,,;;", "ar")
	f.Add("", "", "*", "")
	f.Add("", "", "en;q=NaN, fr;q=-1, de;q=2", "")
	codes := make([]string, 0, len(All()))
	for _, l := range All() {
		codes = append(codes, l.Code)
	}
	f.Fuzz(func(t *testing.T, explicit, session, accept, merchant string) {
		got := Negotiate(explicit, session, accept, merchant)
		if !slices.Contains(codes, got) {
			t.Fatalf("Negotiate(%q, %q, %q, %q) = %q, not a supported locale", explicit, session, accept, merchant, got)
		}
		if again := Negotiate(explicit, session, accept, merchant); again != got {
			t.Fatalf("Negotiate(%q, %q, %q, %q) = %q, then %q", explicit, session, accept, merchant, got, again)
		}
		if slices.Contains(codes, explicit) && got != explicit {
			t.Fatalf("the shopper chose %q, the page is in %q", explicit, got)
		}
	})
}
