package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/locales"
)

// In right-to-left pages every amount, date and merchant-supplied string is
// a direction isolate, and a currency symbol spelled with letters is one of
// its own inside the amount; left-to-right pages are left as they are.
func TestIsolatesInRightToLeftPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, locale, got, want string
	}{
		{"ar total in US dollars", "ar", money(ctxFor("ar"), 6480, "usd"), fsi + "\u200f64.80\u00a0" + fsi + "US$" + pdi + pdi},
		{"ar discount keeps its minus with the digits", "ar", money(ctxFor("ar"), -320, "usd"), fsi + "\u200f\u200e-3.20\u00a0" + fsi + "US$" + pdi + pdi},
		{"ar euro: nothing spelled with letters to isolate inside", "ar", money(ctxFor("ar"), 5872, "eur"), fsi + "\u200f58.72\u00a0€" + pdi},
		{"fa keeps CLDR's left-to-right mark", "fa", money(ctxFor("fa"), 5872, "eur"), fsi + "\u200e€۵۸٫۷۲" + pdi},
		{"he merchant text", "he", iso(ctxFor("he"), "1 kg each month"), fsi + "1 kg each month" + pdi},
		{"ur date", "ur", localTime(ctxFor("ur"), now), fsi + locales.For("ur").DateTimeIn(now, time.UTC) + " " + locales.ZoneName(now, time.UTC) + pdi},
		{"en amount untouched", "en", money(ctxFor("en"), 6480, "usd"), "$64.80"},
		{"en merchant untouched", "en", iso(ctxFor("en"), "Sunny Side Surf Co."), "Sunny Side Surf Co."},
		{"empty stays empty", "ar", iso(ctxFor("ar"), ""), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// A merchant name with its own full stop closes the sentence with it, in
// left-to-right and right-to-left pages alike.
func TestMerchantFullStopIsNotDoubled(tt *testing.T) {
	tt.Parallel()
	for _, locale := range []string{"en", "ar", "de"} {
		ctx := ctxFor(locale)
		got := t(ctx, "common.help", map[string]any{"Merchant": iso(ctx, "Sunny Side Surf Co.")})
		if strings.Contains(got, "Co..") || strings.Contains(got, "Co."+pdi+".") {
			tt.Errorf("%s: %q doubles the full stop", locale, got)
		}
		if !strings.Contains(got, "Co.") {
			tt.Errorf("%s: %q lost the merchant's own full stop", locale, got)
		}
	}
	ctx := ctxFor("en")
	if got := t(ctx, "common.help", map[string]any{"Merchant": "Demo Coffee"}); !strings.HasSuffix(got, "Demo Coffee.") {
		tt.Errorf("a name without a full stop lost the sentence's: %q", got)
	}
}

func ctxFor(locale string) context.Context {
	return WithRequest(context.Background(), Request{Printer: locales.For(locale)})
}
