package views

import (
	"context"
	"html"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// Appearance is the merchant's branding as the page applies it (the
// merchant default merged with the session's override by the handler).
type Appearance struct {
	DisplayName     string
	LogoURL         string
	BrandColor      string
	ButtonColor     string
	BackgroundColor string
	BorderStyle     string // rounded | rectangular | pill
	FontFamily      string // one of the keys of fontStacks
	Theme           string // light | dark | auto
}

// colorRE is the only shape a colour may have to reach CSS. The store
// validates it on the way in; NewStyle checks again on the way out, so that
// no other path can ever put merchant text into a style sheet.
var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// fontStacks maps the merchant's font choice (store.FontFamilies) to a CSS
// font stack of fonts already on the shopper's device: no web fonts, no
// requests to font hosts.
var fontStacks = map[string]string{
	"system":     `system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif`,
	"sans-serif": `"Helvetica Neue", Helvetica, Arial, "Liberation Sans", "Noto Sans", sans-serif`,
	"serif":      `Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, "Liberation Serif", "Noto Serif", serif`,
	"monospace":  `ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace`,
	"rounded":    `ui-rounded, "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, Manjari, "Arial Rounded MT", Calibri, source-sans-pro, sans-serif`,
	"humanist":   `Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif`,
}

// radii maps the border style to the corner radius of cards and of controls.
var radii = map[string][2]string{
	"rounded":     {"12px", "8px"},
	"rectangular": {"0", "0"},
	"pill":        {"20px", "999px"},
}

// palette is every colour a page uses, for one of light or dark.
type palette struct {
	bg, onBg, surface, text, muted, line         string
	brand, onBrand, button, onButton, buttonLine string
	accent, focus                                string
}

// Style is an Appearance resolved into CSS custom properties.
type Style struct {
	Theme         string // light | dark | auto, for <html data-theme>
	light, dark   palette
	font          string
	radius        string
	radiusControl string
	css           string // CSS(), built once by NewStyle
}

// Fixed colours of paypage's own chrome. Each pair was checked for WCAG AA
// contrast (TestPaletteContrast proves the merchant-dependent ones).
const (
	inkDark    = "#000000"
	inkLight   = "#ffffff"
	lightBg    = "#f6f7f9"
	lightText  = "#1a1d21"
	lightMuted = "#545c66"
	lightLine  = "#d9dde3"
	darkBg     = "#0f1114"
	darkSurf   = "#1a1d21"
	darkText   = "#eef0f3"
	darkMuted  = "#aab2bd"
	darkLine   = "#3a4048"
	defBrand   = "#1f2933"
)

// newStyle resolves an Appearance: invalid or missing values fall back to
// paypage's defaults, text colours on merchant colours are chosen by WCAG
// contrast, and links and focus rings use a merchant colour only where it is
// readable.
func newStyle(a Appearance) Style {
	s := Style{Theme: "light", font: fontStacks["system"], radius: radii["rounded"][0], radiusControl: radii["rounded"][1]}
	switch a.Theme {
	case "dark", "auto":
		s.Theme = a.Theme
	}
	if f, ok := fontStacks[a.FontFamily]; ok {
		s.font = f
	}
	if r, ok := radii[a.BorderStyle]; ok {
		s.radius, s.radiusControl = r[0], r[1]
	}
	brand := validColor(a.BrandColor, defBrand)
	button := validColor(a.ButtonColor, brand)
	bg := validColor(a.BackgroundColor, "")
	s.light = resolve(false, bg, brand, button)
	s.dark = resolve(true, bg, brand, button)
	return s
}

func validColor(c, def string) string {
	if colorRE.MatchString(c) {
		return strings.ToLower(c)
	}
	return def
}

func resolve(dark bool, bg, brand, button string) palette {
	p := palette{bg: lightBg, surface: "#ffffff", text: lightText, muted: lightMuted, line: lightLine}
	if dark {
		p = palette{bg: darkBg, surface: darkSurf, text: darkText, muted: darkMuted, line: darkLine}
	}
	// A merchant background that fits the theme is used as it is; a light
	// background in dark mode (or the reverse) would defeat the theme.
	if bg != "" && (luminance(bg) < 0.18) == dark {
		p.bg = bg
	}
	p.onBg = OnColor(p.bg)
	p.brand, p.onBrand = brand, OnColor(brand)
	p.button, p.onButton = button, OnColor(button)
	p.buttonLine = button
	if Contrast(button, p.surface) < 3 {
		p.buttonLine = p.text
	}
	p.accent = p.text
	for _, c := range []string{brand, button} {
		if Contrast(c, p.surface) >= 4.5 {
			p.accent = c
			break
		}
	}
	p.focus = p.text
	for _, c := range []string{p.accent, p.text, p.onBg} {
		if Contrast(c, p.surface) >= 3 && Contrast(c, p.bg) >= 3 {
			p.focus = c
			break
		}
	}
	return p
}

// CSS returns the style sheet that sets the custom properties app.css uses.
// Every value in it is a validated colour or one of the fixed tables above.
func (s Style) CSS() string {
	if s.css != "" {
		return s.css // built once, by NewStyle
	}
	return s.buildCSS()
}

func (s Style) buildCSS() string {
	var b strings.Builder
	b.WriteString(":root{")
	s.writeConstants(&b)
	switch s.Theme {
	case "dark":
		s.dark.write(&b)
		b.WriteString("}")
	case "auto":
		s.light.write(&b)
		b.WriteString("}@media (prefers-color-scheme: dark){:root{")
		s.dark.write(&b)
		b.WriteString("}}")
	default:
		s.light.write(&b)
		b.WriteString("}")
	}
	return b.String()
}

func (s Style) writeConstants(b *strings.Builder) {
	b.WriteString("--font:" + s.font + ";--radius:" + s.radius + ";--radius-control:" + s.radiusControl + ";")
}

func (p palette) write(b *strings.Builder) {
	for _, kv := range [][2]string{
		{"bg", p.bg}, {"on-bg", p.onBg}, {"surface", p.surface}, {"text", p.text}, {"muted", p.muted},
		{"line", p.line}, {"brand", p.brand}, {"on-brand", p.onBrand}, {"button", p.button},
		{"on-button", p.onButton}, {"button-line", p.buttonLine}, {"accent", p.accent}, {"focus", p.focus},
	} {
		if !colorRE.MatchString(kv[1]) {
			continue // unreachable: every value is a constant or validated
		}
		b.WriteString("--" + kv[0] + ":" + kv[1] + ";")
	}
}

// Component writes the style sheet as a <style> element carrying the CSP
// nonce. It is written by hand because templ does not interpolate inside
// <style>; CSS() only ever contains validated values (see above).
func (s Style) Component() templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<style nonce="`+html.EscapeString(nonce(ctx))+`">`+s.CSS()+`</style>`)
		return err
	})
}

// OnColor returns the text colour, near-black or white, that contrasts
// most with the background colour bg ("#rrggbb").
func OnColor(bg string) string {
	if Contrast(inkDark, bg) >= Contrast(inkLight, bg) {
		return inkDark
	}
	return inkLight
}

// Contrast is the WCAG 2 contrast ratio of two "#rrggbb" colours (1 to 21).
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG 2 relative luminance of "#rrggbb".
func luminance(hex string) float64 {
	if !colorRE.MatchString(hex) {
		return 0
	}
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[i:i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(1) + 0.7152*ch(3) + 0.0722*ch(5)
}
