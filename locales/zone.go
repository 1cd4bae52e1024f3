package locales

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the zones below, whatever the host has installed

	"golang.org/x/text/language"
)

// Zone is the time zone a page shows times in when the browser does not
// say its own (without JavaScript): the zone of the country the shopper's
// Accept-Language names ("de-AT", "en-GB"), else of the country the page's
// locale is written for ("en-GB", "zh-HK"), else of the one country its
// language belongs to ("ja", "pl"); UTC when that country spans several
// zones (the US, Brazil, Russia…) or the language several countries (en,
// es, ar, fr…), rather than a guess that is hours off.
func Zone(acceptLanguage, code string) *time.Location {
	if acceptLanguage != "" {
		tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
		for _, tag := range tags {
			if r, conf := tag.Region(); conf == language.Exact {
				return regionZone(r.String())
			}
		}
	}
	li, ok := lookup(code)
	if !ok {
		return time.UTC
	}
	if loc, ok := localeZones.Load(li.code); ok {
		return loc.(*time.Location)
	}
	loc := localeZone(li)
	localeZones.Store(li.code, loc)
	return loc
}

// localeZones caches localeZone by locale code: it depends on nothing else.
var localeZones sync.Map // code -> *time.Location

// localeZone is the zone of the country a locale is written for, or of the
// one country its language belongs to; else UTC.
func localeZone(li *localeInfo) *time.Location {
	tag := language.Make(li.lang)
	if r, conf := tag.Region(); conf == language.Exact {
		return regionZone(r.String())
	}
	base, _ := tag.Base()
	if r, _ := tag.Region(); oneCountry[base.String()] {
		return regionZone(r.String())
	}
	return time.UTC
}

// oneCountry lists the languages spoken (among paypage's locales) in one
// country, or in countries that share its clock: their likely region is
// where the shopper is.
var oneCountry = map[string]bool{
	"af": true, "bg": true, "ca": true, "cs": true, "cy": true, "da": true, "de": true, "el": true,
	"et": true, "eu": true, "fi": true, "fil": true, "gl": true, "he": true, "hi": true, "hr": true,
	"hu": true, "is": true, "it": true, "ja": true, "ko": true, "lt": true, "lv": true, "mr": true,
	"ms": true, "mt": true, "nb": true, "nl": true, "pl": true, "ro": true, "sk": true, "sl": true,
	"sq": true, "sr": true, "sv": true, "sw": true, "ta": true, "th": true, "tr": true, "uk": true,
	"vi": true,
}

// countryZones are the countries with one time zone (or one that nearly
// everyone lives in), by ISO 3166 code. A country not listed is shown UTC.
var countryZones = map[string]string{
	"AE": "Asia/Dubai", "AL": "Europe/Tirane", "AR": "America/Argentina/Buenos_Aires", "AT": "Europe/Vienna",
	"BD": "Asia/Dhaka", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
	"CN": "Asia/Shanghai", "CO": "America/Bogota", "CZ": "Europe/Prague", "DE": "Europe/Berlin",
	"DK": "Europe/Copenhagen", "EE": "Europe/Tallinn", "EG": "Africa/Cairo", "ES": "Europe/Madrid",
	"FI": "Europe/Helsinki", "FR": "Europe/Paris", "GB": "Europe/London", "GH": "Africa/Accra",
	"GR": "Europe/Athens", "HK": "Asia/Hong_Kong", "HR": "Europe/Zagreb", "HU": "Europe/Budapest",
	"IE": "Europe/Dublin", "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata", "IR": "Asia/Tehran",
	"IS": "Atlantic/Reykjavik", "IT": "Europe/Rome", "JO": "Asia/Amman", "JP": "Asia/Tokyo",
	"KE": "Africa/Nairobi", "KR": "Asia/Seoul", "KW": "Asia/Kuwait", "LK": "Asia/Colombo",
	"LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "LV": "Europe/Riga", "MA": "Africa/Casablanca",
	"MT": "Europe/Malta", "MY": "Asia/Kuala_Lumpur", "NG": "Africa/Lagos", "NL": "Europe/Amsterdam",
	"NO": "Europe/Oslo", "NZ": "Pacific/Auckland", "PE": "America/Lima", "PH": "Asia/Manila",
	"PK": "Asia/Karachi", "PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "QA": "Asia/Qatar",
	"RO": "Europe/Bucharest", "RS": "Europe/Belgrade", "SA": "Asia/Riyadh", "SE": "Europe/Stockholm",
	"SG": "Asia/Singapore", "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava", "TH": "Asia/Bangkok",
	"TR": "Europe/Istanbul", "TW": "Asia/Taipei", "TZ": "Africa/Dar_es_Salaam", "UA": "Europe/Kyiv",
	"UY": "America/Montevideo", "VN": "Asia/Ho_Chi_Minh", "ZA": "Africa/Johannesburg",
}

// loadedZones caches countryZones' locations: every page asks, and
// LoadLocation reads and parses the zone's data each time.
var loadedZones sync.Map // region -> *time.Location

func regionZone(region string) *time.Location {
	if loc, ok := loadedZones.Load(region); ok {
		return loc.(*time.Location)
	}
	name, ok := countryZones[region]
	if !ok {
		return time.UTC // not cached: the header's regions are the client's to choose
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	loadedZones.Store(region, loc)
	return loc
}

// ZoneName names the zone in force at t as the pages show it: its
// abbreviation where it has a common one ("CET", "JST"), else its offset
// from UTC ("UTC+07", "UTC+05:45").
func ZoneName(t time.Time, loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return "UTC"
	}
	abbr := t.In(loc).Format("MST")
	if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		if len(abbr) == 5 {
			abbr = abbr[:3] + ":" + abbr[3:]
		}
		return "UTC" + abbr
	}
	return abbr
}
