package views

import (
	"context"
	"strings"
	"unicode"
)

// Unicode directional isolates (UAX #9): FSI takes its direction from its
// first strong character, PDI ends it.
const (
	fsi = "\u2068"
	pdi = "\u2069"
)

// iso is the pages' one way to put an amount, a date or a merchant-supplied
// string (name, item, unit, label, reference) into a right-to-left page: as
// a direction isolate, so that the bidi algorithm lays it out on its own and
// cannot mix it with the text around it ("1 kg each month" read as "kg each
// month 1", "Surf Co." with its full stop on the wrong side). Left-to-right
// pages get s as it is.
//
// Unicode isolates rather than <bdi>: the same value also goes into
// translated sentences ("Pay {{.Merchant}}"), titles and attributes, which
// cannot hold markup.
func iso(ctx context.Context, s string) string {
	if s == "" || printer(ctx).Dir() != "rtl" {
		return s
	}
	return fsi + s + pdi
}

// isoAmount isolates a formatted amount, and inside it each word spelled
// with letters (a currency symbol such as "US$" or "UK£"): CLDR's
// right-to-left patterns ("\u200f64.80 US$") are drawn right only when the
// symbol's letters and sign stay one unit; otherwise Chromium draws
// "$US 64.80".
func isoAmount(ctx context.Context, s string) string {
	if printer(ctx).Dir() != "rtl" {
		return s
	}
	var b strings.Builder
	b.WriteString(fsi)
	word := 0 // start of the current word
	flush := func(end int) {
		if w := s[word:end]; strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			b.WriteString(fsi + w + pdi)
		} else {
			b.WriteString(w)
		}
	}
	for i, r := range s {
		if unicode.IsSpace(r) {
			flush(i)
			b.WriteRune(r)
			word = i + len(string(r))
		}
	}
	flush(len(s))
	b.WriteString(pdi)
	return b.String()
}
