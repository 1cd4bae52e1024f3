package handlers_test

import (
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// "Stay on this page" on a paid return page is a link to the same page
// with ?stay=1, which never moves on by itself (no countdown, no refresh)
// but still offers the way to the merchant; any other value of stay is a
// 400 naming it.
func TestStayOnThisPage(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{SuccessURL: "https://shop.example/thanks"})
		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
		for _, ret := range []string{"success", "pending"} {
			base := srv.URL + "/pay/" + sess.ID + "/" + ret
			p := getPage(t, base)
			if href := p.testid("stay").AttrOr("href", ""); href != "/pay/"+sess.ID+"/"+ret+"?stay=1" {
				t.Errorf("%s: stay link %q", ret, href)
			}
			if _, hidden := p.testid("stay").Attr("hidden"); hidden {
				t.Errorf("%s: the stay link is hidden from browsers without JavaScript", ret)
			}
			p = getPage(t, base+"?stay=1")
			if p.resp.StatusCode != 200 || p.doc.Find("[data-countdown]").Length() != 0 ||
				strings.Contains(p.doc.Find("noscript").Text(), "refresh") {
				t.Errorf("%s?stay=1: %d, still counts down or refreshes", ret, p.resp.StatusCode)
			}
			if p.testid("stayed").Text() == "" || p.testid("back-to-merchant").AttrOr("href", "") != "https://shop.example/thanks" {
				t.Errorf("%s?stay=1: no word on staying, or no way on to the merchant", ret)
			}
			p = getPage(t, base+"?stay=yes")
			if p.resp.StatusCode != 400 || !strings.Contains(p.doc.Find("main").Text(), "stay") {
				t.Errorf("%s?stay=yes: %d, %q", ret, p.resp.StatusCode, strings.TrimSpace(p.doc.Find("main").Text()))
			}
		}
	})
}
