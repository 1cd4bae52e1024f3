package locales

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/paypage/paypage/locales/internal/catalog"
)

// loadCatalogs reads every translation file from the embedded FS.
func loadCatalogs(t *testing.T) map[string]catalog.File {
	t.Helper()
	entries, err := translations.ReadDir("translations")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]catalog.File{}
	for _, e := range entries {
		buf, err := translations.ReadFile("translations/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		f, err := catalog.Parse(buf)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = f
	}
	return out
}

func TestLocaleFilesMatchTable(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	if len(cats) < 50 {
		t.Errorf("%d locale files, SPEC asks for at least 50", len(cats))
	}
	for _, li := range table {
		if _, ok := cats[li.code]; !ok {
			t.Errorf("%s is in the table but has no translations/%s.json", li.code, li.code)
		}
		if _, ok := cldrData[li.code]; !ok {
			t.Errorf("%s has no CLDR data: regenerate cldr_data.go (see TestGenerateCLDRData)", li.code)
		}
		if _, err := language.Parse(li.lang); err != nil {
			t.Errorf("%s: lang %q: %v", li.code, li.lang, err)
		}
	}
	for code := range cats {
		if !Supported(code) {
			t.Errorf("translations/%s.json has no row in the locale table", code)
		}
	}
	if !slices.IsSortedFunc(table, func(a, b localeInfo) int { return strings.Compare(a.code, b.code) }) {
		t.Error("table is not sorted by code, so All() would not be")
	}
}

func TestStripeCheckoutLocalesAreSupported(t *testing.T) {
	t.Parallel()
	stripe := strings.Fields("bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW")
	for _, code := range append(stripe, "ar", "he", "fa", "ur", "hi", "bn", "uk", "ca", "sr", "en-IN") {
		if !Supported(code) {
			t.Errorf("%s is not supported", code)
		}
	}
}

func TestFilesAreCanonicallyFormatted(t *testing.T) {
	t.Parallel()
	for _, li := range table {
		path := filepath.Join("translations", li.code+".json")
		buf, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := catalog.Parse(buf)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if string(f.Marshal()) != string(buf) {
			t.Errorf("%s is not in canonical layout: run go run ./locales/cmd/addkey -fmt", path)
		}
	}
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z][A-Za-z0-9]*)\s*\}\}`)

// placeholders returns the set of {{.Name}} placeholders in s, and whether s
// holds template actions other than plain placeholders.
func placeholders(s string) (set map[string]bool, other bool) {
	set = map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		set[m[1]] = true
	}
	rest := placeholderRE.ReplaceAllString(s, "")
	return set, strings.Contains(rest, "{{") || strings.Contains(rest, "}}")
}

// singularCategories returns the plural categories that cover exactly one
// integer in the locale (English "one" is 1, Arabic "two" is 2); their forms
// may spell the number out instead of showing {{.Count}}.
func singularCategories(code string) map[string]bool {
	li, _ := lookup(code)
	tag := language.MustParse(li.lang)
	b := i18n.NewBundle(tag)
	b.MustAddMessages(tag, &i18n.Message{ID: "p", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"})
	loc := i18n.NewLocalizer(b, li.lang)
	ints := map[string]int{}
	for _, n := range pluralSamples {
		if _, isInt := n.(int); !isInt {
			continue
		}
		ints[loc.MustLocalize(&i18n.LocalizeConfig{MessageID: "p", PluralCount: n})]++
	}
	out := map[string]bool{}
	for c, k := range ints {
		if k == 1 {
			out[c] = true
		}
	}
	return out
}

// TestCatalogComplete fails when a locale lacks a key, has one English does
// not, has an empty text, changes a placeholder, or misses a plural category
// its CLDR rules need (or carries one they never use).
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	en := cats[Default]
	if len(en) < 80 {
		t.Fatalf("en.json has %d messages; the catalog should cover the whole shopper-facing product", len(en))
	}
	for _, li := range table {
		code := li.code
		f := cats[code]
		t.Run(code, func(t *testing.T) {
			for id, want := range en {
				got, ok := f[id]
				if !ok {
					t.Errorf("missing %s", id)
					continue
				}
				if got.IsPlural() != want.IsPlural() {
					t.Errorf("%s: plural in one of en and %s but not the other", id, code)
					continue
				}
				if !want.IsPlural() {
					checkText(t, id, got.Text, want.Text, false)
					continue
				}
				needed := PluralCategories(code)
				if code == Default {
					needed = []string{"one", "other"}
				}
				if have := slices.Sorted(maps.Keys(got.Forms)); !sameSet(have, needed) {
					t.Errorf("%s: plural forms %v, CLDR rules for %s need %v", id, have, li.lang, needed)
				}
				singular := singularCategories(code)
				for form, text := range got.Forms {
					checkText(t, id+"."+form, text, want.Forms["other"], singular[form])
				}
			}
			for id := range f {
				if _, ok := en[id]; !ok {
					t.Errorf("extra key %s, not in en.json", id)
				}
			}
		})
	}
}

func checkText(t *testing.T, id, got, en string, countOptional bool) {
	t.Helper()
	if strings.TrimSpace(got) == "" {
		t.Errorf("%s: empty", id)
		return
	}
	gotPH, gotOther := placeholders(got)
	wantPH, _ := placeholders(en)
	if gotOther {
		t.Errorf("%s: %q has template syntax other than {{.Name}}", id, got)
	}
	if countOptional && !gotPH["Count"] {
		gotPH["Count"] = wantPH["Count"]
		if !wantPH["Count"] {
			delete(gotPH, "Count")
		}
	}
	if !maps.Equal(gotPH, wantPH) {
		t.Errorf("%s: placeholders %v in %q, English has %v", id, slices.Sorted(maps.Keys(gotPH)), got, slices.Sorted(maps.Keys(wantPH)))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// untranslatedAllowed lists messages that may read the same as English in
// another language. Keep it short: each entry hides a possible gap.
var untranslatedAllowed = map[string]bool{
	"payment_method.cashapp": true, // a brand: "Cash App Pay" everywhere
}

// TestNoUntranslatedSentences catches English left behind in a locale: a
// sentence of three or more words is never spelled identically in another
// language. English variants (en-GB, en-IN) are exempt.
func TestNoUntranslatedSentences(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	en := cats[Default]
	for _, li := range table {
		if base, _ := language.MustParse(li.lang).Base(); base.String() == "en" {
			continue
		}
		for id, m := range cats[li.code] {
			if untranslatedAllowed[id] {
				continue
			}
			pairs := map[string]string{"": m.Text}
			want := map[string]string{"": en[id].Text}
			if m.IsPlural() {
				pairs, want = m.Forms, map[string]string{}
				for form := range pairs {
					want[form] = en[id].Forms["other"]
					if form == "one" {
						want[form] = en[id].Forms["one"]
					}
				}
			}
			for form, text := range pairs {
				words := len(strings.Fields(placeholderRE.ReplaceAllString(want[form], "")))
				if words >= 3 && text == want[form] {
					t.Errorf("%s: %s%s is still English: %q", li.code, id, form, text)
				}
			}
		}
	}
}

// TestEveryMessageRenders executes every message of every locale through
// go-i18n with data for all its placeholders and expects no template error
// and no unfilled value.
func TestEveryMessageRenders(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	data := map[string]any{}
	for _, m := range cats[Default] {
		texts := []string{m.Text}
		for _, s := range m.Forms {
			texts = append(texts, s)
		}
		for _, s := range texts {
			ph, _ := placeholders(s)
			for name := range ph {
				data[name] = "«" + name + "»"
			}
		}
	}
	for _, li := range table {
		p := For(li.code)
		for id, m := range cats[li.code] {
			counts := []any{nil}
			if m.IsPlural() {
				counts = []any{0, 1, 2, 3, 5, 11, 21, 22, 100, 101, 1_000_000}
			}
			for _, n := range counts {
				d := maps.Clone(data)
				if n != nil {
					d["Count"] = "«Count»"
				}
				s, err := p.localizer.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: n})
				if err != nil {
					t.Errorf("%s %s (count %v): %v", li.code, id, n, err)
				}
				if strings.Contains(s, "<no value>") {
					t.Errorf("%s %s: unfilled placeholder in %q", li.code, id, s)
				}
			}
		}
	}
}

// TestPrinterServesItsOwnCatalog guards the go-i18n bundle's language
// matching: For("pt") must not answer in pt-BR, nor zh-HK in zh-TW.
func TestPrinterServesItsOwnCatalog(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	for _, li := range table {
		p := For(li.code)
		for id, m := range cats[li.code] {
			if m.IsPlural() || strings.Contains(m.Text, "{{") {
				continue
			}
			if got := p.T(id); got != m.Text {
				t.Errorf("For(%q).T(%q) = %q, want %q from %s.json", li.code, id, got, m.Text, li.code)
			}
		}
	}
}
