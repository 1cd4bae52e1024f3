package locales

import (
	"strings"
	"testing"
)

func TestNegotiateFollowsSpecOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                      string
		explicit, session, accept, merchant, want string
	}{
		{"explicit choice wins over everything", "de", "fr", "ja", "it", "de"},
		{"session locale when no explicit choice", "", "fr", "ja", "it", "fr"},
		{"session auto defers to the browser", "", "auto", "ja", "it", "ja"},
		{"session AUTO is auto too", "", "AUTO", "ja", "it", "ja"},
		{"empty session defers to the browser", "", "", "ja", "it", "ja"},
		{"Accept-Language before merchant default", "", "", "ko-KR,ko;q=0.9", "it", "ko"},
		{"merchant default when the browser says nothing", "", "", "", "it", "it"},
		{"English when nothing is known", "", "", "", "", "en"},
		{"garbage everywhere falls back to English", "!!", "%%", "garbage!!", "xx-??", "en"},
		{"garbage explicit is skipped", "not a tag", "fr", "", "", "fr"},
		{"unsupported explicit is skipped", "am", "", "", "it", "it"},
		{"unknown language in the browser skips to merchant default", "", "", "am", "it", "it"},
		{"explicit code is case-insensitive", "PT-br", "", "", "", "pt-BR"},
		{"underscore accepted", "", "pt_BR", "", "", "pt-BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.explicit, tt.session, tt.accept, tt.merchant); got != tt.want {
				t.Errorf("Negotiate(%q, %q, %q, %q) = %q, want %q", tt.explicit, tt.session, tt.accept, tt.merchant, got, tt.want)
			}
		})
	}
}

func TestNegotiateMatchesTags(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"de-AT", "de"},
		{"de-CH", "de"},
		{"zh-Hant-TW", "zh-TW"},
		{"zh-TW", "zh-TW"},
		{"zh-Hant", "zh-TW"},
		{"zh-HK", "zh-HK"},
		{"zh-MO", "zh-HK"},
		{"zh-CN", "zh"},
		{"zh-Hans", "zh"},
		{"zh-SG", "zh"},
		{"pt", "pt"}, // Stripe's code: Portugal's Portuguese
		{"pt-PT", "pt"},
		{"pt-BR", "pt-BR"},
		{"pt-AO", "pt"},
		{"es-MX", "es-419"},
		{"es-AR", "es-419"},
		{"es-ES", "es"},
		{"en-US", "en"},
		{"en-GB", "en-GB"},
		{"en-AU", "en-GB"},
		{"en-IN", "en-IN"},
		{"fr-CA", "fr-CA"},
		{"fr-BE", "fr"},
		{"nn", "nb"},
		{"no", "nb"},
		{"sr-Latn", "sr"},
		{"iw", "he"},
		{"tl", "fil"},
		{"ar-EG", "ar"},
		{"fa-AF", "fa"},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.in, "", "", ""); got != tt.want {
			t.Errorf("explicit %q → %q, want %q", tt.in, got, tt.want)
		}
		if got := Negotiate("", tt.in, "", ""); got != tt.want {
			t.Errorf("session %q → %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNegotiateAcceptLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, header, want string }{
		{"first preference", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{"q-values outrank order", "de;q=0.2, ja;q=0.9", "ja"},
		{"q=0 means not acceptable", "de;q=0, it", "it"},
		{"unsupported first choice falls to the next", "am, sv;q=0.5", "sv"},
		{"a malformed entry does not spoil the rest", "da;q=0.1, xx-!!, en-GB;q=0.8", "en-GB"},
		{"malformed q value skips only that entry", "de;q=abc, nl;q=0.5", "nl"},
		{"Mexican Spanish browser", "es-MX,es;q=0.9,en-US;q=0.8", "es-419"},
		{"Chinese browser", "zh-CN,zh;q=0.9", "zh"},
		{"Taiwanese browser", "zh-TW,zh;q=0.9,en-US;q=0.8", "zh-TW"},
		{"Brazilian browser", "pt-BR,pt;q=0.9", "pt-BR"},
		{"wildcard alone says nothing", "*", "it"},
		{"empty header", "", "it"},
		{"garbage header", "garbage!!", "it"},
		{"absurdly long header is cut, not parsed whole", strings.Repeat("xx-yy-zz, ", 2000) + "ja", "it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate("", "", tt.header, "it"); got != tt.want {
				t.Errorf("Accept-Language %.60q → %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestNegotiateReturnsOnlySupportedCodes(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"en-US", "de-AT", "yue", "zh-Hans-HK", "und", "i-klingon", "x-private", "sr-Latn-RS", "ca-ES-valencia"} {
		if got := Negotiate(in, "", in, in); !Supported(got) {
			t.Errorf("Negotiate(%q) = %q, not a supported code", in, got)
		}
	}
}

func BenchmarkNegotiate(b *testing.B) {
	for b.Loop() {
		Negotiate("", "auto", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en")
	}
}
