package views

import (
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestPagesLoadOnlyTheScriptsTheyUse: live.js follows a session that can
// still change; once it is complete, expired or canceled the page has
// nothing to follow and does without it (and without the data-live
// element); error pages have no session, no countdown, no script at all.
func TestPagesLoadOnlyTheScriptsTheyUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, pay, ret string
		want             []string
	}{
		{"open", "unpaid", "", []string{"checkout", "live"}},
		{"open", "failed", ReturnPending, []string{"checkout", "live"}},
		{"processing", "pending", ReturnPending, []string{"checkout", "live"}},
		{"complete", "paid", "", []string{"checkout"}},
		{"complete", "paid", ReturnSuccess, []string{"checkout"}},
		{"complete", "reversed", "", []string{"checkout"}},
		{"expired", "unpaid", "", []string{"checkout"}},
		{"canceled", "unpaid", ReturnCancel, []string{"checkout"}},
	} {
		v := baseView()
		v.Status, v.PaymentStatus, v.Return = tc.status, tc.pay, tc.ret
		doc := render(t, "en", Checkout(v))
		var got []string
		doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
			got = append(got, strings.SplitN(strings.TrimPrefix(s.AttrOr("src", ""), "/static/"), ".", 2)[0])
		})
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s/%s %s: scripts %v, want %v", tc.status, tc.pay, tc.ret, got, tc.want)
		}
		if follows := doc.Find("[data-live]").Length() > 0; follows != slices.Contains(tc.want, "live") {
			t.Errorf("%s/%s %s: data-live present %v", tc.status, tc.pay, tc.ret, follows)
		}
		if doc.Find("[data-live-announcer]").Length() != 1 {
			t.Errorf("%s/%s %s: no live region to read a change out in", tc.status, tc.pay, tc.ret)
		}
	}
	for _, status := range []int{400, 403, 404, 500} {
		doc := render(t, "en", ErrorPage(ErrorView{Status: status, RequestID: "req_1"}))
		if n := doc.Find("script").Length(); n != 0 {
			t.Errorf("error page %d loads %d scripts", status, n)
		}
	}
}
