package locales

import (
	"slices"
	"strings"
)

// Locale describes one supported shopper language, for the language switcher
// and for <html lang dir>.
type Locale struct {
	Code string // paypage's code, as accepted by the API and stored in sessions (Stripe's codes where Stripe has one)
	Lang string // BCP 47 tag for lang attributes, e.g. "pt-PT" for code "pt"
	Name string // native name, so shoppers find their language whatever the page is currently in
	Dir  string // "ltr" or "rtl"
}

// localeInfo is the internal row behind a Locale.
type localeInfo struct {
	code string
	name string
	// lang is the BCP 47 tag for <html lang>, plural rules and CLDR data.
	// It differs from code where Stripe's code is ambiguous in CLDR terms:
	// Stripe's "pt" is Portugal's Portuguese while CLDR's "pt" is Brazil's.
	lang string
	rtl  bool
}

// table lists every locale, sorted by code. Each has translations/<code>.json
// and a CLDR entry in cldr_data.go (TestLocaleFilesMatchTable keeps them in step).
//
// Native names are written in their own language and script: a shopper who
// landed on the wrong language must still recognise their own.
var table = []localeInfo{
	{code: "af", name: "Afrikaans", lang: "af"},
	{code: "ar", name: "العربية", lang: "ar", rtl: true},
	{code: "bg", name: "Български", lang: "bg"},
	{code: "bn", name: "বাংলা", lang: "bn"},
	{code: "ca", name: "Català", lang: "ca"},
	{code: "cs", name: "Čeština", lang: "cs"},
	{code: "cy", name: "Cymraeg", lang: "cy"},
	{code: "da", name: "Dansk", lang: "da"},
	{code: "de", name: "Deutsch", lang: "de"},
	{code: "el", name: "Ελληνικά", lang: "el"},
	{code: "en", name: "English", lang: "en"},
	{code: "en-GB", name: "English (UK)", lang: "en-GB"},
	{code: "en-IN", name: "English (India)", lang: "en-IN"},
	{code: "es", name: "Español", lang: "es"},
	{code: "es-419", name: "Español (Latinoamérica)", lang: "es-419"},
	{code: "et", name: "Eesti", lang: "et"},
	{code: "eu", name: "Euskara", lang: "eu"},
	{code: "fa", name: "فارسی", lang: "fa", rtl: true},
	{code: "fi", name: "Suomi", lang: "fi"},
	{code: "fil", name: "Filipino", lang: "fil"},
	{code: "fr", name: "Français", lang: "fr"},
	{code: "fr-CA", name: "Français (Canada)", lang: "fr-CA"},
	{code: "gl", name: "Galego", lang: "gl"},
	{code: "he", name: "עברית", lang: "he", rtl: true},
	{code: "hi", name: "हिन्दी", lang: "hi"},
	{code: "hr", name: "Hrvatski", lang: "hr"},
	{code: "hu", name: "Magyar", lang: "hu"},
	{code: "id", name: "Bahasa Indonesia", lang: "id"},
	{code: "is", name: "Íslenska", lang: "is"},
	{code: "it", name: "Italiano", lang: "it"},
	{code: "ja", name: "日本語", lang: "ja"},
	{code: "ko", name: "한국어", lang: "ko"},
	{code: "lt", name: "Lietuvių", lang: "lt"},
	{code: "lv", name: "Latviešu", lang: "lv"},
	{code: "mr", name: "मराठी", lang: "mr"},
	{code: "ms", name: "Bahasa Melayu", lang: "ms"},
	{code: "mt", name: "Malti", lang: "mt"},
	{code: "nb", name: "Norsk bokmål", lang: "nb"},
	{code: "nl", name: "Nederlands", lang: "nl"},
	{code: "pl", name: "Polski", lang: "pl"},
	{code: "pt", name: "Português (Portugal)", lang: "pt-PT"},
	{code: "pt-BR", name: "Português (Brasil)", lang: "pt-BR"},
	{code: "ro", name: "Română", lang: "ro"},
	{code: "ru", name: "Русский", lang: "ru"},
	{code: "sk", name: "Slovenčina", lang: "sk"},
	{code: "sl", name: "Slovenščina", lang: "sl"},
	{code: "sq", name: "Shqip", lang: "sq"},
	{code: "sr", name: "Српски", lang: "sr-Cyrl"},
	{code: "sv", name: "Svenska", lang: "sv"},
	{code: "sw", name: "Kiswahili", lang: "sw"},
	{code: "ta", name: "தமிழ்", lang: "ta"},
	{code: "th", name: "ไทย", lang: "th"},
	{code: "tr", name: "Türkçe", lang: "tr"},
	{code: "uk", name: "Українська", lang: "uk"},
	{code: "ur", name: "اردو", lang: "ur", rtl: true},
	{code: "vi", name: "Tiếng Việt", lang: "vi"},
	{code: "zh", name: "简体中文", lang: "zh-Hans"},
	{code: "zh-HK", name: "繁體中文（香港）", lang: "zh-Hant-HK"},
	{code: "zh-TW", name: "繁體中文（台灣）", lang: "zh-Hant-TW"},
}

// Default is the locale of last resort, and the language of the source catalog.
const Default = "en"

// byCode indexes table by lower-cased code.
var byCode = func() map[string]*localeInfo {
	m := make(map[string]*localeInfo, len(table))
	for i := range table {
		m[strings.ToLower(table[i].code)] = &table[i]
	}
	return m
}()

func lookup(code string) (*localeInfo, bool) {
	li, ok := byCode[strings.ToLower(code)]
	return li, ok
}

func (li *localeInfo) dir() string {
	if li.rtl {
		return "rtl"
	}
	return "ltr"
}

// All returns every supported locale sorted by code, for the language switcher.
func All() []Locale {
	out := make([]Locale, len(table))
	for i := range table {
		out[i] = Locale{Code: table[i].code, Lang: table[i].lang, Name: table[i].name, Dir: table[i].dir()}
	}
	return out
}

// Supported reports whether code is exactly a supported locale code
// (case-insensitive). Use Negotiate to map arbitrary tags onto one.
func Supported(code string) bool {
	_, ok := lookup(code)
	return ok
}

// RightToLeft returns the codes of the locales written right to left
// (Arabic and Hebrew scripts). Pages in these locales set dir="rtl" and the
// layout mirrors; the list is derived from the table so it cannot drift from Dir.
func RightToLeft() []string {
	var out []string
	for _, li := range table {
		if li.rtl {
			out = append(out, li.code)
		}
	}
	return slices.Clip(out)
}

// NativeNames returns each locale's name in its own language, by code.
func NativeNames() map[string]string {
	m := make(map[string]string, len(table))
	for _, li := range table {
		m[li.code] = li.name
	}
	return m
}
