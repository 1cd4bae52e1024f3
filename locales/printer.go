package locales

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// translations holds one go-i18n JSON file per locale, named <code>.json.
// en.json is the source of truth for the key set (see cmd/addkey).
//
//go:embed translations/*.json
var translations embed.FS

// Printer renders messages, numbers, money and dates for one locale.
// Printers are built once and shared; all methods are safe for concurrent use.
type Printer struct {
	info      *localeInfo
	localizer *i18n.Localizer
	// plain caches messages that take no template data, rendered once, so
	// the common T(id) is a map lookup.
	plain map[string]string
	// templated marks messages with {{…}} actions or plural forms; they go
	// through go-i18n on every call.
	templated map[string]bool
	formats   *formats
	// compiled holds templated messages cut at their placeholders, by
	// compiledKey (compiled.go).
	compiled sync.Map
}

var (
	loadOnce sync.Once
	printers map[string]*Printer // by code, as written and lower-cased
	loadErr  error
)

// load parses every catalog into one go-i18n bundle and builds a Printer per
// locale. It runs once; a broken catalog is a programming error caught by
// the tests, so For panics on it rather than serving half-translated pages.
func load() {
	bundle := i18n.NewBundle(language.English)
	printers = make(map[string]*Printer, len(table))
	var enIDs []string
	templated := map[string]bool{}
	names, notSimple := map[string]map[string]bool{}, map[string]bool{}
	for i := range table {
		li := &table[i]
		buf, err := translations.ReadFile("translations/" + li.code + ".json")
		if err != nil {
			loadErr = fmt.Errorf("locales: %s: %w", li.code, err)
			return
		}
		msgs, err := i18n.ParseMessageBytes(buf, json.Unmarshal)
		if err != nil {
			loadErr = fmt.Errorf("locales: parse %s.json: %w", li.code, err)
			return
		}
		if err := bundle.AddMessages(language.MustParse(li.lang), msgs...); err != nil {
			loadErr = fmt.Errorf("locales: add %s: %w", li.code, err)
			return
		}
		for _, m := range msgs {
			noteSimple(m, names, notSimple)
		}
		if li.code == Default {
			for _, m := range msgs {
				enIDs = append(enIDs, m.ID)
				if m.One != "" || strings.Contains(m.Other, "{{") {
					templated[m.ID] = true
				}
			}
		}
	}
	simpleMessages = map[string][]string{}
	for id := range templated {
		if !notSimple[id] {
			simpleMessages[id] = slices.Sorted(maps.Keys(names[id]))
		}
	}
	for i := range table {
		li := &table[i]
		data, ok := cldrData[li.code]
		if !ok {
			loadErr = fmt.Errorf("locales: no CLDR data for %s", li.code)
			return
		}
		p := &Printer{
			info:      li,
			localizer: i18n.NewLocalizer(bundle, li.lang),
			plain:     make(map[string]string, len(enIDs)),
			templated: templated,
			formats:   compileFormats(data),
		}
		for _, id := range enIDs {
			if templated[id] {
				continue
			}
			// A message missing here falls back to English inside go-i18n.
			p.plain[id], _ = p.localizer.Localize(&i18n.LocalizeConfig{MessageID: id})
		}
		printers[li.code] = p
		printers[strings.ToLower(li.code)] = p
	}
}

func printerFor(code string) (*Printer, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	if p, ok := printers[code]; ok { // the common case: a code from Negotiate
		return p, nil
	}
	if p, ok := printers[strings.ToLower(code)]; ok {
		return p, nil
	}
	return printers[Default], nil
}

// For returns the Printer for a supported locale code, or English's for any
// other code. It never returns nil and costs a map lookup after the first call.
func For(code string) *Printer {
	p, err := printerFor(code)
	if err != nil {
		panic(err)
	}
	return p
}

// Code returns the locale code, e.g. "pt-BR".
func (p *Printer) Code() string { return p.info.code }

// Lang returns the BCP 47 tag for <html lang>, e.g. "pt-PT" for code "pt".
func (p *Printer) Lang() string { return p.info.lang }

// Dir returns "rtl" or "ltr" for <html dir>.
func (p *Printer) Dir() string { return p.info.dir() }

// T returns the message id, with {{.Name}} placeholders filled from data.
// A message missing from this locale comes out in English; an id unknown
// even to English comes back as the id itself, so the gap shows on the page
// and in tests instead of as an empty string.
func (p *Printer) T(id string, data ...map[string]any) string {
	if !p.templated[id] {
		if s, ok := p.plain[id]; ok {
			return s
		}
	} else if len(data) <= 1 {
		if c := p.compiledMessage(id, -1); c != nil {
			var d map[string]any
			if len(data) == 1 {
				d = data[0]
			}
			if s, ok := c.render(d, ""); ok {
				return s
			}
		}
	}
	return p.localize(id, nil, merge(data))
}

// N returns the plural message id for count, choosing the form by the
// locale's CLDR plural rules. The template sees the count, written with the
// locale's digits and grouping, as {{.Count}}, besides the given data.
func (p *Printer) N(id string, count int, data ...map[string]any) string {
	if len(data) <= 1 {
		if c := p.compiledMessage(id, count); c != nil {
			var d map[string]any
			if len(data) == 1 {
				d = data[0]
			}
			if s, ok := c.render(d, p.Number(int64(count))); ok {
				return s
			}
		}
	}
	d := merge(data)
	if d == nil {
		d = map[string]any{}
	}
	d["Count"] = p.Number(int64(count))
	return p.localize(id, count, d)
}

func (p *Printer) localize(id string, count any, data map[string]any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id, PluralCount: count}
	if data != nil {
		cfg.TemplateData = data
	}
	s, err := p.localizer.Localize(cfg)
	if s == "" && err != nil {
		return id
	}
	return s
}

// merge flattens the optional data maps into a fresh map (callers' maps are
// never written to).
//
// It copies entry by entry, not with maps.Clone, so that the compiler can
// see the callers' maps go no further: their map literals then stay on the
// stack.
func merge(data []map[string]any) map[string]any {
	if len(data) == 0 || len(data) == 1 && data[0] == nil {
		return nil
	}
	out := make(map[string]any, len(data[0]))
	for _, d := range data {
		for k, v := range d {
			out[k] = v
		}
	}
	return out
}

// Money formats an amount given in integer minor units of an ISO 4217
// currency (1234 with "EUR" is €12.34; 1235 with "JPY" is ¥1,235) with the
// locale's currency pattern, symbol and digits.
func (p *Printer) Money(minor int64, currency string) string {
	return p.formats.money(minor, currency)
}

// Number formats an integer with the locale's grouping and digits.
func (p *Printer) Number(n int64) string { return p.formats.number(n) }

// Date formats t as the locale's CLDR medium date ("Mar 7, 2025"), in UTC.
func (p *Printer) Date(t time.Time) string { return p.formats.date(t.UTC()) }

// DateTime formats t as the locale's medium date with its short time
// ("Mar 7, 2025, 2:05 PM"), in UTC.
func (p *Printer) DateTime(t time.Time) string { return p.formats.dateTimeString(t.UTC()) }

// DateIn and DateTimeIn are Date and DateTime in a given time zone, for
// callers that know the shopper's or merchant's zone.
func (p *Printer) DateIn(t time.Time, loc *time.Location) string {
	return p.formats.date(t.In(loc))
}

// DateTimeIn is DateTime in the time zone loc.
func (p *Printer) DateTimeIn(t time.Time, loc *time.Location) string {
	return p.formats.dateTimeString(t.In(loc))
}

// Sentences joins whole sentences as the locale writes them one after the
// other: with a space in most scripts, with none after the full-width
// stops of Chinese and Japanese ("。", "！", "？"), where a space is a gap.
func (p *Printer) Sentences(sentences ...string) string {
	var b strings.Builder
	for _, s := range sentences {
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			prev, _ := utf8.DecodeLastRuneInString(b.String())
			if !strings.ContainsRune("。！？", prev) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(s)
	}
	return b.String()
}
