package locales

import (
	"testing"
	"time"
)

func TestZoneFromTheShoppersRegionOrLanguage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ accept, code, want string }{
		{"de-AT,de;q=0.9", "de", "Europe/Vienna"},        // the header's country
		{"ja", "ja", "Asia/Tokyo"},                       // one country's language
		{"", "ja", "Asia/Tokyo"},                         // no header: the locale's
		{"en-US,en;q=0.8", "en", "UTC"},                  // a country of many zones
		{"en", "en", "UTC"},                              // a language of many countries
		{"es", "es", "UTC"},                              // Spain's or Mexico's?
		{"", "en-GB", "Europe/London"},                   // the locale's own country
		{"", "zh-HK", "Asia/Hong_Kong"},                  //
		{"pt-BR", "pt-BR", "UTC"},                        // Brazil has four zones
		{"fr;q=0.9, de-CH;q=0.8", "fr", "Europe/Zurich"}, // the first region named
		{"not a header", "xx", "UTC"},                    // nonsense
		{"ar-SA", "ar", "Asia/Riyadh"},
	} {
		if got := Zone(tc.accept, tc.code).String(); got != tc.want {
			t.Errorf("Zone(%q, %q) = %s, want %s", tc.accept, tc.code, got, tc.want)
		}
	}
}

func TestZoneNameIsAlwaysShown(t *testing.T) {
	t.Parallel()
	winter := time.Date(2026, 12, 3, 0, 1, 0, 0, time.UTC)
	for _, tc := range []struct{ zone, want string }{
		{"UTC", "UTC"}, {"Asia/Tokyo", "JST"}, {"Europe/Berlin", "CET"}, {"Asia/Bangkok", "UTC+07"},
		{"Asia/Kolkata", "IST"}, {"Asia/Tehran", "UTC+03:30"},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := ZoneName(winter, loc); got != tc.want {
			t.Errorf("ZoneName(%s) = %q, want %q", tc.zone, got, tc.want)
		}
	}
}
