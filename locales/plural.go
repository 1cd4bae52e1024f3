package locales

import (
	"fmt"
	"slices"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// pluralSamples covers every CLDR plural category reachable in any locale:
// integers up to 1100 (rules test n % 10, n % 100 and ranges below 1000),
// powers of ten (French, Spanish, Italian and Portuguese "many" is for
// millions), and decimals (Czech and Slovak "many" is for fractions only).
var pluralSamples = func() []any {
	var s []any
	for i := range 1101 {
		s = append(s, i)
	}
	for n := 10_000; n <= 1_000_000_000; n *= 10 {
		s = append(s, n, n+1, 2*n)
	}
	for i := range 121 {
		for _, frac := range []string{"0", "1", "2", "3", "5", "00", "05", "25", "50"} {
			s = append(s, fmt.Sprintf("%d.%s", i, frac))
		}
	}
	return s
}()

var pluralCache sync.Map // code → []string

// PluralCategories returns the CLDR plural categories ("one", "few", …) that
// the locale's plural messages must provide, in CLDR order. It asks go-i18n,
// which chooses the form at run time, by rendering a probe message whose
// forms name themselves, so the answer cannot disagree with what N uses.
func PluralCategories(code string) []string {
	li, ok := lookup(code)
	if !ok {
		li = byCode[Default]
	}
	if v, ok := pluralCache.Load(li.code); ok {
		return v.([]string)
	}
	tag := language.MustParse(li.lang)
	b := i18n.NewBundle(tag)
	probe := &i18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	b.MustAddMessages(tag, probe)
	loc := i18n.NewLocalizer(b, li.lang)
	seen := map[string]bool{}
	for _, n := range pluralSamples {
		form, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			panic(fmt.Sprintf("locales: plural probe %s %v: %v", li.code, n, err))
		}
		seen[form] = true
	}
	var out []string
	for _, f := range []string{"zero", "one", "two", "few", "many", "other"} {
		if seen[f] {
			out = append(out, f)
		}
	}
	out = slices.Clip(out)
	pluralCache.Store(li.code, out)
	return out
}
