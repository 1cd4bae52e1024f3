package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/paypage/paypage/locales"
)

// TestTimesAreInTheShoppersZoneAndNamed: every time on a page is marked up
// for checkout.js (the browser's zone) and, until then, shown in the zone
// the server could tell, with that zone named: never a bare UTC for all.
func TestTimesAreInTheShoppersZoneAndNamed(t *testing.T) {
	t.Parallel()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	expires := time.Date(2026, 12, 2, 15, 1, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang     string
		zone     *time.Location
		want     string // the expiry sentence
		datetime string
	}{
		{"en", nil, "This checkout expires on Dec 2, 2026, 3:01\u202fPM UTC.", "2026-12-02T15:01:00Z"},
		{"ja", tokyo, "このお支払いの期限は 2026/12/03 0:01 JST です。", "2026-12-02T15:01:00Z"},
		{"en", tokyo, "This checkout expires on Dec 3, 2026, 12:01\u202fAM JST.", "2026-12-02T15:01:00Z"},
	} {
		v := baseView()
		v.Now, v.ExpiresAt = expires.Add(-24*time.Hour), expires
		var buf bytes.Buffer
		ctx := WithRequest(context.Background(), Request{Printer: locales.For(tc.lang), Zone: tc.zone, CSRF: func() string { return "x" }})
		if err := Checkout(v).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(&buf)
		p := doc.Find(`[data-testid="expires-on"]`)
		if got := strings.Join(strings.Fields(p.Text()), " "); got != strings.Join(strings.Fields(tc.want), " ") {
			t.Errorf("%s %v: %q, want %q", tc.lang, tc.zone, got, tc.want)
		}
		if dt := p.Find("time[data-local]").AttrOr("datetime", ""); dt != tc.datetime {
			t.Errorf("%s: datetime %q, want %q", tc.lang, dt, tc.datetime)
		}
	}
}
