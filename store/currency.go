package store

import (
	"strings"

	"golang.org/x/text/currency"
)

// CurrencyExponent reports the number of minor-unit digits of an ISO 4217
// currency code (JPY 0, EUR 2, KWD 3), from CLDR's data as shipped with
// golang.org/x/text, the same source the locales package formats with.
func CurrencyExponent(code string) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	unit, err := currency.ParseISO(strings.ToUpper(code))
	if err != nil {
		return 0, false
	}
	scale, _ := currency.Standard.Rounding(unit)
	return scale, true
}
