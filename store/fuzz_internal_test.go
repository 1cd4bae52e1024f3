package store

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets: each states what must hold for any input, beyond not
// panicking. Seeds are below and in testdata/fuzz; `make fuzz` runs each
// longer (see .ci/fuzz.sh).

// wantInvalidError fails unless err is an EINVALID *Error whose Param
// starts with param.
func wantInvalidError(t *testing.T, err error, param string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || !strings.HasPrefix(e.Param, param) {
		t.Fatalf("refused with %v, want an invalid-parameter error naming %s", err, param)
	}
}

// FuzzURL: the URLs and origins a merchant gives are checked before any
// shopper is sent to them or any header carries them.
//
// A return URL is accepted only when it is where a shopper may be sent:
// absolute, https (http only to localhost in test mode), no user info,
// text, at most 2048 bytes, on the merchant's redirect host when it set one;
// anything else is a 400 naming the field.
//
// An origin's canonical form is put in a CSP header (frame-ancestors) and
// used as postMessage's targetOrigin, so it must be exactly
// scheme://host[:port], in characters that cannot break out of a header
// value, and stable.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://shop.example/ok?cs={CHECKOUT_SESSION_ID}", "http://localhost:3000/done",
		"http://127.0.0.1/x", "https://u:p@shop.example/", "javascript:alert(1)", "//shop.example/x",
		"https://shop.example\\@evil.example/", "https://shop.example%00.evil.example/", "https://SHOP.example/",
		"https://[::1]/x", "http://[::1]:8080/", "https://shop.example/\xff", "https:shop.example", "",
		"https://shop.example", "HTTPS://Shop.Example:443/", "https://[2001:db8::1]:8443", "https://shop.example?x",
		"https://xn--mnchen-3ya.example", "https://münchen.example", "https://shop.example:99999",
		"https://shop.example;script-src", "ftp://shop.example"} {
		f.Add(s, false, "shop.example")
		f.Add(s, true, "")
	}
	f.Fuzz(func(t *testing.T, raw string, livemode bool, host string) {
		fuzzReturnURL(t, raw, livemode, host)
		fuzzOrigin(t, raw)
	})
}

func fuzzReturnURL(t *testing.T, raw string, livemode bool, host string) {
	var hosts []string
	if host != "" {
		hosts = []string{strings.ToLower(host)}
	}
	err := validateReturnURL("success_url", raw, livemode, hosts)
	if err != nil {
		wantInvalidError(t, err, "success_url")
		return
	}
	if raw == "" {
		return
	}
	if len(raw) > MaxURLLength || !utf8.ValidString(raw) || strings.IndexByte(raw, 0) >= 0 {
		t.Fatalf("accepted %q: too long, or not text", raw)
	}
	u, perr := url.Parse(strings.ReplaceAll(raw, "{CHECKOUT_SESSION_ID}", "cs_x"))
	if perr != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		t.Fatalf("accepted %q: not an absolute URL without user info (%v)", raw, perr)
	}
	name := strings.ToLower(u.Hostname())
	if u.Scheme != "https" && !(u.Scheme == "http" && !livemode && isLocalhost(name)) {
		t.Fatalf("accepted %q (live %v): scheme %q", raw, livemode, u.Scheme)
	}
	if len(hosts) > 0 && name != hosts[0] {
		t.Fatalf("accepted %q on host %q, the merchant allows only %q", raw, name, hosts[0])
	}
}

func fuzzOrigin(t *testing.T, o string) {
	c, ok := CanonicalOrigin(o)
	if !ok {
		if validateOrigin(o) == nil {
			t.Fatalf("%q: refused by CanonicalOrigin, accepted by validateOrigin", o)
		}
		return
	}
	if again, ok := CanonicalOrigin(c); !ok || again != c {
		t.Fatalf("%q → %q → %q (%v): not stable", o, c, again, ok)
	}
	if !strings.HasPrefix(c, "https://") && !strings.HasPrefix(c, "http://") {
		t.Fatalf("%q → %q: not an http(s) origin", o, c)
	}
	if i := strings.IndexFunc(c, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(":/.-[]", r))
	}); i >= 0 {
		t.Fatalf("%q → %q: character %q could break a header or a CSP", o, c, c[i])
	}
	u, err := url.Parse(c)
	if err != nil || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		t.Fatalf("%q → %q: more than an origin", o, c)
	}
}

// FuzzAppearance: what the appearance validator accepts reaches the pages'
// CSS as custom properties, so every colour is exactly #rrggbb and every
// other field one of its few values.
func FuzzAppearance(f *testing.F) {
	f.Add("Shop", "https://cdn.example/logo.svg", "#1a2b3c", "#ABCDEF", "", "pill", "serif", "dark")
	f.Add("", "", "#fff", "red", "#12345g", "round", "comic", "blue")
	f.Add("x", "http://cdn.example/logo.svg", "#123456;}body{x", "#123456\n", "#1234567", "", "", "")
	f.Add("\xff", "https://u:p@cdn.example/", "", "", "", "rounded", "system", "auto")
	f.Fuzz(func(t *testing.T, name, logo, brand, button, background, border, font, theme string) {
		a := Appearance{DisplayName: name, LogoURL: logo, BrandColor: brand, ButtonColor: button,
			BackgroundColor: background, BorderStyle: border, FontFamily: font, Theme: theme}
		if err := a.Validate("appearance"); err != nil {
			wantInvalidError(t, err, "appearance[")
			return
		}
		for _, c := range []string{brand, button, background} {
			if c == "" {
				continue
			}
			if len(c) != 7 || c[0] != '#' || strings.Trim(c[1:], "0123456789abcdefABCDEF") != "" {
				t.Fatalf("colour %q accepted", c)
			}
		}
		if !oneOf(border, "", "rounded", "rectangular", "pill") || !oneOf(theme, "", "light", "dark", "auto") ||
			(font != "" && !oneOf(font, FontFamilies...)) {
			t.Fatalf("border %q, font %q, theme %q accepted", border, font, theme)
		}
		if !IsText(name) || utf8.RuneCountInString(name) > 100 {
			t.Fatalf("display name %q accepted", name)
		}
		if logo != "" {
			if u, err := url.Parse(logo); err != nil || u.Scheme != "https" || u.User != nil || !IsText(logo) {
				t.Fatalf("logo %q accepted", logo)
			}
		}
	})
}
