package handlers

import (
	"strconv"
	"strings"

	"github.com/paypage/paypage/store"
)

// formatMoney formats integer minor units with the currency's exponent.
func formatMoney(minor int64, currency string) string {
	exp, _ := store.CurrencyExponent(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s + " " + strings.ToUpper(currency)
}
