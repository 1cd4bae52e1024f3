package locales

import (
	"cmp"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// matcher maps any BCP 47 tag onto the closest supported locale using CLDR's
// language matching data: de-AT → de, zh-Hant → zh-TW, es-MX → es-419,
// en-AU → en-GB, nn → nb, sr-Latn → sr. English is listed first, so it is
// what the matcher returns when nothing matches (with confidence No).
var matcher, matcherCodes = func() (language.Matcher, []string) {
	tags := []language.Tag{language.MustParse(byCode[Default].lang)}
	codes := []string{Default}
	for _, li := range table {
		if li.code != Default {
			tags = append(tags, language.MustParse(li.lang))
			codes = append(codes, li.code)
		}
	}
	return language.NewMatcher(tags), codes
}()

// Limits on the Accept-Language header, which comes straight from the client.
const (
	maxAcceptLanguageLen     = 1024
	maxAcceptLanguageEntries = 24
)

// Negotiate picks the locale for a page, in the order SPEC.md sets: the
// shopper's explicit choice (the switcher), the checkout session's locale
// unless it is "" or "auto", the Accept-Language header, the merchant's
// default, and finally English. Inputs that are empty, malformed or match no
// supported locale are skipped. Codes match exactly first (so Stripe's "pt"
// stays Portugal's Portuguese), then by CLDR tag matching.
func Negotiate(explicit, session, acceptLanguage, merchantDefault string) string {
	if code, ok := matchCode(explicit); ok {
		return code
	}
	if !strings.EqualFold(strings.TrimSpace(session), "auto") {
		if code, ok := matchCode(session); ok {
			return code
		}
	}
	if code, ok := matchAcceptLanguage(acceptLanguage); ok {
		return code
	}
	if code, ok := matchCode(merchantDefault); ok {
		return code
	}
	return Default
}

// Match resolves a locale code or BCP 47 tag to the supported locale that
// pages would be shown in, if any (see Negotiate).
func Match(s string) (string, bool) { return matchCode(s) }

// matchCode resolves one locale code or BCP 47 tag, accepting "_" for "-".
func matchCode(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if s == "" || len(s) > 64 {
		return "", false
	}
	if li, ok := lookup(s); ok {
		return li.code, true
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	return matchTags(tag)
}

func matchTags(tags ...language.Tag) (string, bool) {
	if len(tags) == 0 {
		return "", false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return matcherCodes[i], true
}

// matchAcceptLanguage parses the header entry by entry, so that one bad
// entry does not discard the others (language.ParseAcceptLanguage rejects
// the whole header), and hands the tags to the matcher by descending q.
func matchAcceptLanguage(h string) (string, bool) {
	if len(h) > maxAcceptLanguageLen {
		h = h[:maxAcceptLanguageLen]
	}
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var ws []weighted
	for i, entry := range strings.Split(h, ",") {
		if i == maxAcceptLanguageEntries {
			break
		}
		tags, qs, err := language.ParseAcceptLanguage(entry)
		if err != nil || len(tags) != 1 || tags[0] == language.Make("mul") {
			continue // malformed, q=0, or the "*" wildcard, which names no language
		}
		ws = append(ws, weighted{tags[0], qs[0]})
	}
	slices.SortStableFunc(ws, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	tags := make([]language.Tag, len(ws))
	for i, w := range ws {
		tags[i] = w.tag
	}
	return matchTags(tags...)
}
