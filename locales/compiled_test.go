package locales

import (
	"slices"
	"testing"
)

// Compiled messages say, in every locale, for every templated message and
// every count, what go-i18n says: the same strings with awkward values
// (text that looks like a template, markup, a full stop), and go-i18n's own
// answer where a value is missing or not a string.
func TestCompiledMessagesMatchGoI18n(t *testing.T) {
	t.Parallel()
	For(Default) // load the catalogs
	if len(simpleMessages) == 0 {
		t.Fatal("no templated message is compiled")
	}
	values := []string{"Sunny Side Surf Co.", "{{.Merchant}}", "<b>&amp;</b>", "", "\u2068Müller\u2069"}
	for _, l := range All() {
		p := For(l.Code)
		for id := range p.templated {
			names := slices.Clone(simpleMessages[id])
			if _, ok := simpleMessages[id]; !ok {
				t.Errorf("%s: templated message %s is not compiled", l.Code, id)
				continue
			}
			var datas []map[string]any
			for _, v := range values {
				d := map[string]any{}
				for _, name := range names {
					d[name] = v
				}
				datas = append(datas, d)
			}
			if len(names) > 0 {
				missing := map[string]any{}
				for _, name := range names[1:] {
					missing[name] = "x"
				}
				notString := map[string]any{names[0]: 42}
				datas = append(datas, missing, notString, nil)
			}
			for _, d := range datas {
				var args []map[string]any
				if d != nil {
					args = []map[string]any{d}
				}
				if got, want := p.T(id, args...), p.localize(id, nil, merge(args)); got != want {
					t.Errorf("%s: T(%s, %v) = %q, go-i18n %q", l.Code, id, d, got, want)
				}
				for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 11, 12, 21, 22, 25, 100, 101, maxCompiledCount, maxCompiledCount + 1, 1000} {
					dd := merge(args)
					if dd == nil {
						dd = map[string]any{}
					}
					dd["Count"] = p.Number(int64(n))
					if got, want := p.N(id, n, args...), p.localize(id, n, dd); got != want {
						t.Errorf("%s: N(%s, %d, %v) = %q, go-i18n %q", l.Code, id, n, d, got, want)
					}
				}
			}
		}
	}
}

// A compiled T allocates only its answer.
func TestCompiledMessageAllocations(t *testing.T) {
	p := For("de")
	data := map[string]any{"Merchant": "Bench Shop"}
	p.T("checkout.heading", data)
	if n := testing.AllocsPerRun(100, func() { p.T("checkout.heading", data) }); n > 1 {
		t.Errorf("T of a compiled message: %v allocations, want at most 1", n)
	}
}
