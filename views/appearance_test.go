package views

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestContrastMatchesWCAG(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#777777", "#ffffff", 4.48},
		{"#1d6f42", "#ffffff", 6.17},
		{"#6B3E26", "#FBF7F2", 8.41},
	} {
		if got := Contrast(tc.a, tc.b); math.Abs(got-tc.want) > 0.05 {
			t.Errorf("Contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
		if Contrast(tc.a, tc.b) != Contrast(tc.b, tc.a) {
			t.Errorf("Contrast(%s, %s) depends on the order", tc.a, tc.b)
		}
	}
}

func TestOnColorPicksTheMoreReadableText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ bg, want string }{
		{"#ffcc00", inkDark},
		{"#ffffff", inkDark},
		{"#1d6f42", inkLight},
		{"#000000", inkLight},
		{"#777777", inkDark}, // mid grey: black 4.69:1, white only 4.48:1
	} {
		if got := OnColor(tc.bg); got != tc.want {
			t.Errorf("OnColor(%s) = %s, want %s", tc.bg, got, tc.want)
		}
	}
}

// Whatever colours a merchant picks, every pair of text and background the
// pages use must reach WCAG AA: 4.5:1 for text, 3:1 for focus rings and
// button edges.
func TestPaletteContrastForAnyMerchantColours(t *testing.T) {
	t.Parallel()
	var colours []string
	for r := 0; r < 256; r += 51 {
		for g := 0; g < 256; g += 51 {
			for b := 0; b < 256; b += 85 {
				colours = append(colours, fmt.Sprintf("#%02x%02x%02x", r, g, b))
			}
		}
	}
	for _, c := range colours {
		s := NewStyle(Appearance{BrandColor: c, ButtonColor: c, BackgroundColor: c})
		for mode, p := range map[string]palette{"light": s.light, "dark": s.dark} {
			for _, pair := range []struct {
				what     string
				fg, bg   string
				minRatio float64
			}{
				{"text on surface", p.text, p.surface, 4.5},
				{"muted on surface", p.muted, p.surface, 4.5},
				{"text on page background", p.onBg, p.bg, 4.5},
				{"text on brand", p.onBrand, p.brand, 4.5},
				{"text on button", p.onButton, p.button, 4.5},
				{"links on surface", p.accent, p.surface, 4.5},
				{"button edge on surface", p.buttonLine, p.surface, 3},
				{"focus ring on surface", p.focus, p.surface, 3},
			} {
				if r := Contrast(pair.fg, pair.bg); r < pair.minRatio {
					t.Errorf("%s %s with merchant colour %s: %s on %s is %.2f:1, want >= %.1f",
						mode, pair.what, c, pair.fg, pair.bg, r, pair.minRatio)
				}
			}
		}
	}
}

var cssValue = regexp.MustCompile(`--[a-z-]+:([^;]*);`)

// Merchant values reach the style sheet only as validated colours or as
// entries of the fixed tables: anything else falls back to the defaults.
func TestStyleNeverCarriesMerchantText(t *testing.T) {
	t.Parallel()
	evil := []string{
		`red;}body{background:url(https://evil.example/x)}`,
		`#12345g`, `#1234567`, `</style><script>alert(1)</script>`, `expression(alert(1))`, `#abc`,
	}
	for _, e := range evil {
		css := NewStyle(Appearance{BrandColor: e, ButtonColor: e, BackgroundColor: e, BorderStyle: e,
			FontFamily: e, Theme: e}).CSS()
		for _, bad := range []string{"evil", "<", "script", "expression", "url(", e} {
			if strings.Contains(css, bad) {
				t.Errorf("input %q: style sheet contains %q:\n%s", e, bad, css)
			}
		}
		for _, m := range cssValue.FindAllStringSubmatch(css, -1) {
			v := m[1]
			if !colorRE.MatchString(v) && !isFixedValue(v) {
				t.Errorf("input %q: unexpected value %q", e, v)
			}
		}
	}
}

func isFixedValue(v string) bool {
	for _, f := range fontStacks {
		if v == f {
			return true
		}
	}
	for _, r := range radii {
		if v == r[0] || v == r[1] {
			return true
		}
	}
	return false
}

func TestStyleAppliesTheMerchantChoices(t *testing.T) {
	t.Parallel()
	s := NewStyle(Appearance{BrandColor: "#FFCC00", ButtonColor: "#1d6f42", BackgroundColor: "#fbf7f2",
		BorderStyle: "pill", FontFamily: "serif", Theme: "light"})
	css := s.CSS()
	for _, want := range []string{"--brand:#ffcc00;", "--on-brand:" + inkDark, "--button:#1d6f42;", "--on-button:#ffffff;",
		"--bg:#fbf7f2;", "--radius-control:999px;", "--font:" + fontStacks["serif"]} {
		if !strings.Contains(css, want) {
			t.Errorf("style sheet lacks %q:\n%s", want, css)
		}
	}
	if strings.Contains(css, "@media") || s.Theme != "light" {
		t.Errorf("a light theme must not follow the system: %s", css)
	}
	auto := NewStyle(Appearance{Theme: "auto"}).CSS()
	if !strings.Contains(auto, "@media (prefers-color-scheme: dark)") {
		t.Errorf("auto theme does not follow the system: %s", auto)
	}
	// A light merchant background is not forced onto a dark page.
	dark := NewStyle(Appearance{Theme: "dark", BackgroundColor: "#fbf7f2"}).CSS()
	if strings.Contains(dark, "#fbf7f2") || !strings.Contains(dark, "--bg:"+darkBg) {
		t.Errorf("dark theme kept a light background: %s", dark)
	}
}
