package views

import (
	"strings"
	"testing"
)

// Live mode's pay button says what the shopper pays and who takes it, in
// the shopper's language (the amount isolated in right-to-left pages).
func TestLivePayButtonNamesAmountAndProvider(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, locale, provider, want string
	}{
		{"with a provider", "en", "Acme Pay", "Pay €31.90 with Acme Pay"},
		{"no provider named", "en", "", "Pay €31.90"},
		{"German", "de", "Acme Pay", "31,90\u00a0€ mit Acme Pay bezahlen"},
		{"Arabic", "ar", "Acme Pay", "ادفع " + fsi + "\u200f31.90\u00a0€" + pdi + " عبر " + fsi + "Acme Pay" + pdi},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := baseView()
			v.Livemode, v.NextActionURL, v.Provider = true, "https://pay.provider.example/s/1", tc.provider
			doc := render(t, tc.locale, Checkout(v))
			pay := doc.Find(`[data-testid="pay"]`)
			if got := strings.TrimSpace(pay.Text()); got != tc.want || pay.AttrOr("href", "") != v.NextActionURL {
				t.Errorf("pay button %q → %s, want %q", got, pay.AttrOr("href", ""), tc.want)
			}
		})
	}
}
