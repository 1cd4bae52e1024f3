package views

import (
	"html"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/a-h/templ"
)

// Parts of a page that do not depend on the session are built once and
// kept: the switcher's options per locale, and each appearance's style.
// Both are keyed by everything they are made of, so they can never be out
// of date: a merchant whose appearance changes gets another key.

// switcherOptionsByLocale holds the <option> list of the language switcher
// with each locale selected, built on first use (string values).
var switcherOptionsByLocale sync.Map

// switcherOptions returns the switcher's options with locale selected.
func switcherOptions(locale string) templ.Component {
	if v, ok := switcherOptionsByLocale.Load(locale); ok {
		return templ.Raw(v.(string))
	}
	var b strings.Builder
	for _, l := range switcherLocales {
		b.WriteString(`<option value="` + html.EscapeString(l.Code) + `" lang="` + html.EscapeString(l.Lang) + `"`)
		if l.Code == locale {
			b.WriteString(" selected")
		}
		b.WriteString(">" + html.EscapeString(l.Name) + "</option>")
	}
	v, _ := switcherOptionsByLocale.LoadOrStore(locale, b.String())
	return templ.Raw(v.(string))
}

// styles memoises NewStyle by appearance, with its style sheet, up to
// maxStyles appearances (then it starts again).
var (
	styles     sync.Map // Appearance -> Style
	styleCount atomic.Int64
)

const maxStyles = 1024

// NewStyle resolves an Appearance (see newStyle), once per appearance.
func NewStyle(a Appearance) Style {
	if v, ok := styles.Load(a); ok {
		return v.(Style)
	}
	s := newStyle(a)
	s.css = s.buildCSS()
	if styleCount.Add(1) > maxStyles {
		styles.Clear()
		styleCount.Store(1)
	}
	styles.Store(a, s)
	return s
}
