package locales

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The expected strings below were checked against ICU 78 (CLDR 48, the
// release cldr_data.go comes from) through Node's Intl API. ICU's output was
// identical except for two things: V8 swaps CLDR's U+202F before AM/PM for
// a plain space for web compatibility (we keep CLDR's), and ICU writes
// Korean day periods as AM/PM where CLDR 48 has 오전/오후 (we keep CLDR's).

func TestMoneyMatchesCLDR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		locale   string
		minor    int64
		currency string
		want     string
	}{
		{"German euro: dot groups, comma decimals, symbol after", "de", 123456, "EUR", "1.234,56\u00a0€"},
		{"French groups with narrow no-break space U+202F", "fr", 123456, "EUR", "1\u202f234,56\u00a0€"},
		{"Canadian French keeps the no-break space U+00A0", "fr-CA", 123456, "CAD", "1\u00a0234,56\u00a0$"},
		{"Dutch puts the symbol first with a space", "nl", 123456, "EUR", "€\u00a01.234,56"},
		{"US English dollar", "en", 123456, "USD", "$1,234.56"},
		{"US English negative puts the minus before the symbol", "en", -123456, "USD", "-$1,234.56"},
		{"zero has the currency's decimals", "en", 0, "GBP", "£0.00"},
		{"yen has no minor unit", "ja", 1235, "JPY", "￥1,235"},
		{"yen in English uses the halfwidth sign", "en", 1235, "JPY", "¥1,235"},
		{"Kuwaiti dinar has three decimals", "en", 1234567, "KWD", "KWD\u00a01,234.567"},
		{"an alphabetic symbol gets a space (CLDR alphaNextToNumber)", "en", 123456, "CHF", "CHF\u00a01,234.56"},
		{"Indian English groups in lakhs", "en-IN", 12345600, "INR", "₹1,23,456.00"},
		{"Hindi groups in lakhs", "hi", 12345600, "INR", "₹1,23,456.00"},
		{"Spanish does not group four digits (minimumGroupingDigits 2)", "es", 123456, "EUR", "1234,56\u00a0€"},
		{"Spanish groups five digits", "es", 1234567, "EUR", "12.345,67\u00a0€"},
		{"Portugal's Portuguese is not Brazil's", "pt", 123456, "EUR", "1234,56\u00a0€"},
		{"Brazilian real", "pt-BR", 123456, "BRL", "R$\u00a01.234,56"},
		{"Polish złoty", "pl", 123456, "PLN", "1234,56\u00a0zł"},
		{"Arabic: Latin digits since CLDR 46, right-to-left mark", "ar", 123456, "USD", "\u200f1,234.56\u00a0US$"},
		{"Arabic Kuwaiti dinar, three decimals and Arabic symbol", "ar", 1234567, "KWD", "\u200f1,234.567\u00a0د.ك.\u200f"},
		{"Arabic negative", "ar", -123456, "USD", "\u200f\u200e-1,234.56\u00a0US$"},
		{"Hebrew shekel", "he", 123456, "ILS", "\u200f1,234.56\u00a0\u200f₪"},
		{"Persian digits and separators", "fa", 123456, "EUR", "\u200e€۱٬۲۳۴٫۵۶"},
		{"Bengali digits with lakh grouping", "bn", 12345600, "INR", "১,২৩,৪৫৬.০০₹"},
		{"Marathi Devanagari digits", "mr", 123456, "USD", "$१,२३४.५६"},
		{"Swiss franc in German", "de", 123456, "CHF", "1.234,56\u00a0CHF"},
		{"Taiwan dollar in Traditional Chinese", "zh-TW", 123456, "TWD", "$1,234.56"},
		{"Hong Kong dollar", "zh-HK", 123456, "HKD", "HK$1,234.56"},
		{"lower-case currency code", "en", 123456, "eur", "€1,234.56"},
		{"unknown currency keeps its code and two decimals", "en", 123456, "ZZZ", "ZZZ\u00a01,234.56"},
		{"largest amount does not overflow", "en", math.MaxInt64, "USD", "$92,233,720,368,547,758.07"},
		{"smallest amount does not overflow", "en", math.MinInt64, "USD", "-$92,233,720,368,547,758.08"},
		{"unknown locale formats as English", "tlh", 123456, "USD", "$1,234.56"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := For(tt.locale).Money(tt.minor, tt.currency); got != tt.want {
				t.Errorf("For(%q).Money(%d, %q) = %+q, want %+q", tt.locale, tt.minor, tt.currency, got, tt.want)
			}
		})
	}
}

func TestCurrencyExponentFollowsISO4217(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		exp    int
		wantOK bool
	}{
		{"USD", 2, true}, {"EUR", 2, true}, {"JPY", 0, true}, {"KRW", 0, true},
		{"KWD", 3, true}, {"BHD", 3, true}, {"CLP", 0, true}, {"ISK", 0, true},
		{"usd", 2, true}, {"ZZZ", 0, false}, {"", 0, false}, {"EURO", 0, false},
	}
	for _, tt := range tests {
		exp, ok := CurrencyExponent(tt.code)
		if exp != tt.exp || ok != tt.wantOK {
			t.Errorf("CurrencyExponent(%q) = %d, %v; want %d, %v", tt.code, exp, ok, tt.exp, tt.wantOK)
		}
	}
}

func TestNumberMatchesCLDR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		locale string
		n      int64
		want   string
	}{
		{"en", 1234567, "1,234,567"},
		{"en", -5, "-5"},
		{"en", 0, "0"},
		{"de", 1234567, "1.234.567"},
		{"fr", 1234567, "1\u202f234\u202f567"},
		{"es", 1234, "1234"},
		{"es", 12345, "12.345"},
		{"en-IN", 1234567, "12,34,567"},
		{"ar", 1234567, "1,234,567"},
		{"fa", 1234567, "۱٬۲۳۴٬۵۶۷"},
		{"fa", -5, "\u200e−۵"},
		{"bn", 1234567, "১২,৩৪,৫৬৭"},
		{"mr", 1234567, "१२,३४,५६७"},
		{"sv", -5, "−5"},
	}
	for _, tt := range tests {
		if got := For(tt.locale).Number(tt.n); got != tt.want {
			t.Errorf("For(%q).Number(%d) = %+q, want %+q", tt.locale, tt.n, got, tt.want)
		}
	}
}

func TestDatesMatchCLDR(t *testing.T) {
	t.Parallel()
	afternoon := time.Date(2025, 3, 7, 14, 5, 0, 0, time.UTC)
	midnight := time.Date(2025, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		locale       string
		t            time.Time
		date, dateTm string
	}{
		{"en", afternoon, "Mar 7, 2025", "Mar 7, 2025, 2:05\u202fPM"},
		{"en", midnight, "Nov 23, 2025", "Nov 23, 2025, 12:00\u202fAM"},
		{"en-GB", afternoon, "7 Mar 2025", "7 Mar 2025, 14:05"},
		{"de", afternoon, "07.03.2025", "07.03.2025, 14:05"},
		{"ja", afternoon, "2025/03/07", "2025/03/07 14:05"},
		{"fr-CA", afternoon, "7 mars 2025", "7 mars 2025, 14 h 05"},
		{"fi", afternoon, "7.3.2025", "7.3.2025 klo 14.05"},
		{"vi", afternoon, "7 thg 3, 2025", "14:05 7 thg 3, 2025"},
		{"ar", afternoon, "07\u200f/03\u200f/2025", "07\u200f/03\u200f/2025، 2:05 م"},
		{"fa", afternoon, "۷ مارس ۲۰۲۵", "۷ مارس ۲۰۲۵، ۱۴:۰۵"},
		{"bn", afternoon, "৭ মার্চ, ২০২৫", "৭ মার্চ, ২০২৫, ২:০৫ PM"},
		{"zh-TW", afternoon, "2025年3月7日", "2025年3月7日 下午2:05"},
		{"zh-TW", midnight, "2025年11月23日", "2025年11月23日 凌晨12:00"},
		{"he", midnight, "23 בנוב׳ 2025", "23 בנוב׳ 2025, 0:00"},
		{"eu", afternoon, "2025(e)ko mar. 7(a)", "2025(e)ko mar. 7(a) (14:05)"},
	}
	for _, tt := range tests {
		p := For(tt.locale)
		if got := p.Date(tt.t); got != tt.date {
			t.Errorf("For(%q).Date = %+q, want %+q", tt.locale, got, tt.date)
		}
		if got := p.DateTime(tt.t); got != tt.dateTm {
			t.Errorf("For(%q).DateTime = %+q, want %+q", tt.locale, got, tt.dateTm)
		}
	}
}

func TestDatesAreUTCUnlessAZoneIsGiven(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	late := time.Date(2025, 3, 7, 23, 30, 0, 0, time.UTC).In(tokyo) // 8 March in Tokyo
	p := For("en")
	if got, want := p.Date(late), "Mar 7, 2025"; got != want {
		t.Errorf("Date = %q, want the UTC date %q", got, want)
	}
	if got, want := p.DateTimeIn(late, tokyo), "Mar 8, 2025, 8:30\u202fAM"; got != want {
		t.Errorf("DateTimeIn(Tokyo) = %q, want %q", got, want)
	}
	if got, want := p.DateIn(late, tokyo), "Mar 8, 2025"; got != want {
		t.Errorf("DateIn(Tokyo) = %q, want %q", got, want)
	}
}

func TestEveryLocaleFormats(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 7, 14, 5, 0, 0, time.UTC)
	for _, li := range table {
		p := For(li.code)
		for what, s := range map[string]string{
			"Money":    p.Money(123456, "EUR"),
			"Number":   p.Number(1234567),
			"Date":     p.Date(at),
			"DateTime": p.DateTime(at),
		} {
			if s == "" || len(s) > 80 {
				t.Errorf("%s %s = %q", li.code, what, s)
			}
		}
	}
}

func BenchmarkMoney(b *testing.B) {
	p := For("fr")
	for b.Loop() {
		p.Money(123456, "EUR")
	}
}

// dateTimeString fills the glue pattern as strings.Replacer does, and money
// says the same from its cache as on its first call, in every locale.
func TestDateTimeGlueAndMoneyCache(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 21, 5, 0, 0, time.UTC)
	for _, l := range All() {
		f := For(l.Code).formats
		r := strings.NewReplacer("{1}", f.formatDate(f.dateMed, at), "{0}", f.formatDate(f.timeShort, at))
		if got, want := f.dateTimeString(at), r.Replace(f.dateTime); got != want {
			t.Errorf("%s: dateTimeString %q, Replacer %q", l.Code, got, want)
		}
		for _, code := range []string{"eur", "EUR", "jpy", "chf", "kwd", "xyz"} {
			for _, minor := range []int64{0, 5, -1234567, 100000000} {
				first := f.money(minor, code)
				if again := f.money(minor, code); again != first {
					t.Errorf("%s: money(%d, %s) %q then %q", l.Code, minor, code, first, again)
				}
			}
		}
	}
}
