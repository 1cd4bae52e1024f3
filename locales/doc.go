// Package locales is paypage's internationalisation core: the supported
// shopper locales, locale negotiation, message catalogs, and CLDR number,
// currency and date formatting. Views and handlers use it through a
// *Printer:
//
//	code := locales.Negotiate(cookieChoice, session.Locale, r.Header("Accept-Language"), merchant.DefaultLocale)
//	p := locales.For(code)
//	p.T("checkout.pay_button", map[string]any{"Amount": p.Money(s.AmountTotal, s.Currency)})
//	p.N("checkout.expires_in", minutes) // plural forms by CLDR rules; the count is {{.Count}}
//
// Catalogs live in translations/<code>.json, one file per locale, embedded
// into the binary. en.json is the source of truth for the key set; add keys
// with cmd/addkey so every locale gets them, then translate. Tests fail on
// any missing, extra or empty message, a changed placeholder, a missing
// CLDR plural category, or an English sentence left in another language.
//
// Messages and plural rules come from github.com/nicksnyder/go-i18n/v2,
// negotiation from golang.org/x/text/language, currency exponents from
// golang.org/x/text/currency, and number, currency and date patterns from
// the Unicode CLDR JSON release through the generated cldr_data.go (see
// format.go for why not a formatting library).
package locales

//go:generate go test -run ^TestGenerateCLDRData$ . -args -cldr-json=${CLDR_JSON}
