package locales

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestRightToLeftLocales(t *testing.T) {
	t.Parallel()
	want := []string{"ar", "fa", "he", "ur"}
	if got := RightToLeft(); !slices.Equal(got, want) {
		t.Errorf("RightToLeft() = %v, want %v", got, want)
	}
	for _, l := range All() {
		p := For(l.Code)
		if p.Dir() != l.Dir {
			t.Errorf("%s: Printer.Dir %q, Locale.Dir %q", l.Code, p.Dir(), l.Dir)
		}
		// Cross-check against CLDR's likely script for the language.
		script, _ := language.MustParse(p.Lang()).Script()
		rtlScript := script.String() == "Arab" || script.String() == "Hebr"
		if rtlScript != (l.Dir == "rtl") {
			t.Errorf("%s: script %s but dir %s", l.Code, script, l.Dir)
		}
	}
}

func TestAllIsSortedAndNamed(t *testing.T) {
	t.Parallel()
	all := All()
	if len(all) < 55 {
		t.Errorf("%d locales, want at least 55", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b Locale) int {
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	}) {
		t.Error("All() is not sorted by code")
	}
	names := map[string]bool{}
	for _, l := range all {
		if l.Name == "" || names[l.Name] {
			t.Errorf("%s: empty or duplicate native name %q", l.Code, l.Name)
		}
		if l.Lang != For(l.Code).Lang() {
			t.Errorf("%s: Locale.Lang %q, Printer.Lang %q", l.Code, l.Lang, For(l.Code).Lang())
		}
		names[l.Name] = true
	}
	if NativeNames()["de"] != "Deutsch" || NativeNames()["ja"] != "日本語" {
		t.Errorf("NativeNames() = %v", NativeNames())
	}
}

func TestSupported(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"de": true, "DE": true, "pt-br": true, "zh-TW": true, "de-AT": false, "": false, "auto": false} {
		if got := Supported(in); got != want {
			t.Errorf("Supported(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestForFallsBackToEnglish(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"", "xx", "de-AT", "auto"} {
		p := For(code)
		if p == nil || p.Code() != "en" || p.Lang() != "en" || p.Dir() != "ltr" {
			t.Errorf("For(%q) = %+v, want the English printer", code, p)
		}
	}
	if For("de") != For("DE") {
		t.Error("For does not return the cached printer")
	}
}

func TestPrinterLang(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"pt": "pt-PT", "pt-BR": "pt-BR", "zh": "zh-Hans", "zh-TW": "zh-Hant-TW", "zh-HK": "zh-Hant-HK", "sr": "sr-Cyrl", "de": "de"} {
		if got := For(code).Lang(); got != want {
			t.Errorf("For(%q).Lang() = %q, want %q", code, got, want)
		}
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	en, de := For("en"), For("de")
	tests := []struct {
		name, got, want string
	}{
		{"plain message", en.T("checkout.total"), "Total"},
		{"template data", en.T("checkout.pay_button", map[string]any{"Amount": en.Money(1999, "USD")}), "Pay $19.99"},
		{"two data maps merge", en.T("payment_method.card_ending", map[string]any{"Brand": "Visa"}, map[string]any{"Last4": "4242"}), "Visa ending in 4242"},
		{"unknown id comes back as the id", en.T("no.such.key"), "no.such.key"},
		{"translated", de.T("checkout.total"), "Gesamt"},
		{"plural one", en.N("checkout.expires_in", 1), "Expires in 1 minute"},
		{"plural other", en.N("checkout.expires_in", 5), "Expires in 5 minutes"},
		{"count is grouped by the locale", en.N("recurring.every_days", 1000), "every 1,000 days"},
		{"plural with more data", en.N("return.redirecting", 5, map[string]any{"Merchant": "Acme"}), "Redirecting to Acme in 5 seconds…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestPluralFormsFollowCLDR proves N picks forms by each language's CLDR
// rules rather than English's.
func TestPluralFormsFollowCLDR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		locale string
		count  int
		want   string
	}{
		{"ru", 1, "1 минуту"},
		{"ru", 3, "3 минуты"},
		{"ru", 5, "5 минут"},
		{"ru", 21, "21 минуту"},
		{"pl", 22, "22 minuty"},
		{"pl", 25, "25 minut"},
		{"fr", 0, "0 minute"},
		{"ar", 2, "دقيقتين"},
	}
	for _, tt := range tests {
		got := For(tt.locale).N("checkout.expires_in", tt.count)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s N(expires_in, %d) = %q, want it to contain %q", tt.locale, tt.count, got, tt.want)
		}
	}
}

func TestPrintersAreSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for _, l := range All() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := For(l.Code)
			_ = p.T("checkout.pay_button", map[string]any{"Amount": p.Money(1000, "EUR")})
			_ = p.N("checkout.expires_in", 3)
			_ = p.DateTime(time.Now())
		}()
	}
	wg.Wait()
}

func BenchmarkT(b *testing.B) {
	p := For("de")
	for b.Loop() {
		p.T("checkout.total")
	}
}

func BenchmarkTWithData(b *testing.B) {
	p := For("de")
	data := map[string]any{"Amount": "12,00 €"}
	for b.Loop() {
		p.T("checkout.pay_button", data)
	}
}
