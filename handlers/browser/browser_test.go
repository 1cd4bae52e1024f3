package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	bt "github.com/paypage/paypage/handlers/browsertest"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// widths are a small phone and a laptop.
var widths = []int64{360, 1280}

func TestMain(m *testing.M) { storetest.Main(m, bt.Close) }

// TestBrowserEveryPage opens every state's page, and the return and error
// pages, at phone and laptop width: it saves a screenshot, checks that the
// page reports the stored state, that nothing was refused, that nothing
// overflows sideways, and that axe-core finds no violation; at phone width,
// the layout too (checkPhoneLayout).
func TestBrowserEveryPage(t *testing.T) {
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, pc := range handlertest.SeedPages(t, srv) {
		for _, w := range widths {
			t.Run(fmt.Sprintf("%s/%d", pc.Name, w), func(t *testing.T) {
				t.Parallel()
				ctx := b.ReusedTab(t, w)
				bt.Open(t, ctx, srv.URL+pc.Path)
				bt.Screenshot(t, ctx, fmt.Sprintf("%s-%d", pc.Name, w))
				if pc.SettledReturns {
					// The page would move on to the merchant in 5 s; stay, so
					// that the checks below see it (and the button works).
					// (TestBrowserStayOnThisPage checks what Stay does.)
					bt.Click(t, ctx, "[data-stay]")
					bt.WaitGone(t, ctx, "[data-stay]", 5*time.Second)
				}
				got := bt.Eval[[]string](t, ctx, `[document.querySelector("main").dataset.status, document.querySelector("main").dataset.paymentStatus || ""]`)
				if got[0] != pc.Status || (pc.Status != "error" && got[1] != pc.Payment) {
					t.Errorf("main reports %v, want status %q payment %q", got, pc.Status, pc.Payment)
				}
				if overflow := bt.Eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); overflow > 0 {
					t.Errorf("the page is %d px wider than the viewport", overflow)
				}
				bt.CheckClean(t, ctx)
				b.CheckAccessible(t, ctx)
				if w == 360 {
					checkPhoneLayout(t, ctx, pc)
				}
			})
		}
	}
}

// TestBrowserDarkModeFollowsTheShopper checks a theme=auto page under the
// shopper's dark preference: different colours, still accessible.
func TestBrowserDarkModeFollowsTheShopper(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Appearance: &store.Appearance{Theme: "auto", BrandColor: "#6b3e26"}})
	ctx := b.Tab(t, 360)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	bt.Screenshot(t, ctx, "auto-theme-dark-360")
	if bg := bt.Eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 17, 20)" {
		t.Errorf("dark preference: body background %s, want the dark background", bg)
	}
	bt.CheckClean(t, ctx)
	b.CheckAccessible(t, ctx)
}

// TestBrowserPaySucceedThenSuccessPage clicks through a test-mode payment:
// pay, land on the success page showing the stored complete state, and be
// taken on to the merchant's success_url (with the session id filled in)
// after the countdown.
func TestBrowserPaySucceedThenSuccessPage(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{SuccessURL: srv.URL + "/healthz?session={CHECKOUT_SESSION_ID}"})
	ctx := b.ReusedTab(t, 360)
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	bt.Click(t, ctx, `[data-testid="pay"]`)
	bt.WaitFor(t, ctx, `main[data-status="complete"][data-payment-status="paid"] [data-testid="countdown"]`, 10*time.Second)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != srv.URL+"/pay/"+sess.ID+"/success" {
		t.Fatalf("after paying the browser is at %s, want the success page", loc)
	}
	bt.Screenshot(t, ctx, "flow-pay-success-360")
	bt.CheckClean(t, ctx)
	stored, err := srv.Store.Session(context.Background(), sess.ID)
	if err != nil || stored.Status != store.StatusComplete || stored.PaymentStatus != store.PaymentPaid {
		t.Fatalf("stored session after paying: %+v, %v", stored, err)
	}
	bt.WaitLocation(t, ctx, srv.URL+"/healthz?session="+sess.ID, 10*time.Second) // to the merchant, after the countdown
}

// TestBrowserNeedsConfirmationThenSettle clicks "needs confirmation", waits
// on the pending page, settles the payment there, and sees the outcome.
func TestBrowserNeedsConfirmationThenSettle(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	ctx := b.ReusedTab(t, 1280)
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	bt.Click(t, ctx, `[data-testid="confirm"]`)
	bt.WaitFor(t, ctx, `main[data-status="processing"][data-payment-status="pending"]`, 10*time.Second)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != srv.URL+"/pay/"+sess.ID+"/pending" {
		t.Fatalf("after 'needs confirmation' the browser is at %s, want the pending page", loc)
	}
	bt.Screenshot(t, ctx, "flow-pending-1280")
	bt.Click(t, ctx, `[data-testid="settle-succeed"]`)
	bt.WaitFor(t, ctx, `main[data-status="complete"][data-payment-status="paid"] [data-testid="return-notice"]`, 10*time.Second)
	bt.Screenshot(t, ctx, "flow-pending-settled-1280")
	bt.CheckClean(t, ctx)
}

// TestBrowserPendingPageSeesTheOutcome leaves the pending page open while
// the payment settles elsewhere (as a provider's event would): with
// JavaScript the page notices the new version; without it, the <noscript>
// refresh reloads it.
func TestBrowserPendingPageSeesTheOutcome(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", script), func(t *testing.T) {
			t.Parallel()
			sess := handlertest.CreateSession(t, srv, false, store.SessionParams{AfterCompletion: &store.AfterCompletion{Type: "hosted"}})
			handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionProcess, Source: "api"})
			ctx := b.Tab(t, 360)
			if !script {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
			}
			bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID+"/pending")
			bt.WaitFor(t, ctx, `main[data-status="processing"]`, 5*time.Second)
			handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
			bt.WaitFor(t, ctx, `main[data-status="complete"]`, 15*time.Second)
			if n := bt.Eval[int](t, ctx, `document.querySelectorAll('[data-countdown="redirect"]').length`); n != 0 {
				t.Error("a hosted completion counts down to a redirect")
			}
		})
	}
}

// TestBrowserExpiryCountdownTicks checks that the countdown of the last
// five minutes moves.
func TestBrowserExpiryCountdownTicks(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{ExpiresAt: srv.Store.Now().Add(3 * time.Minute).Unix()})
	ctx := b.ReusedTab(t, 360)
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	read := `document.querySelector('[data-testid="countdown"]').textContent.trim()`
	first := bt.Eval[string](t, ctx, read)
	_, err := chromedp.Run(bt.WithTimeout(t, ctx, 5*time.Second), chromedp.Poll[bool](
		fmt.Sprintf(`(function (s) { return s !== %q && s.includes("2:5"); })(%s)`, first, read)))
	if err != nil {
		t.Fatalf("countdown did not tick: %q, then %q", first, bt.Eval[string](t, ctx, read))
	}
}

// TestBrowserRecoverExpired restarts an expired session from its page.
func TestBrowserRecoverExpired(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
	ctx := b.ReusedTab(t, 360)
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	bt.Click(t, ctx, `[data-testid="recover"]`)
	bt.WaitFor(t, ctx, `main[data-status="open"]`, 10*time.Second)
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, srv.URL+"/pay/cs_test_") || strings.Contains(loc, sess.ID) {
		t.Fatalf("after recovery the browser is at %s, want a new session's page", loc)
	}
}

// TestBrowserPreloadsNoUI checks that Chromium runs no page of its own UI
// beside the tests' tabs: the omnibox popups it preloads for each tab's
// browser context woke with every page loaded, and tripled the CPU the
// browser tests need (browsertest.start turns them off by name; a Chromium
// that renames them, or preloads some other part, shows up here).
func TestBrowserPreloadsNoUI(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	ctx := b.Tab(t, 360)
	bt.Open(t, ctx, "data:text/html,<main>tab</main>")
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range targets {
		if ti.Type != "page" && ti.Type != "iframe" {
			t.Errorf("Chromium runs a %s target of its own: %s (%s)", ti.Type, ti.URL, ti.Title)
		}
	}
}

// TestBrowserReusedTabForgetsCookies checks what ReusedTab promises: the
// next test gets the same tab on a blank page, without the cookies the
// last one left.
func TestBrowserReusedTabForgetsCookies(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	const width = 777 // no other test's, so that the second subtest gets the first one's tab
	var first context.Context
	t.Run("leaves a cookie", func(t *testing.T) {
		first = b.ReusedTab(t, width)
		bt.Open(t, first, srv.URL+"/pay/cs_test_nosuchsession")
		if !bt.Eval[bool](t, first, `document.cookie = "left=over; path=/"; document.cookie.includes("left=over")`) {
			t.Fatal("the page could not set a cookie")
		}
	})
	t.Run("gets the tab without it", func(t *testing.T) {
		ctx := b.ReusedTab(t, width)
		if ctx != first {
			t.Fatal("the tab was not reused")
		}
		if loc, err := chromedp.Run(ctx, chromedp.Location()); loc != "about:blank" || err != nil {
			t.Errorf("the reused tab is at %q (%v), want about:blank", loc, err)
		}
		bt.Open(t, ctx, srv.URL+"/pay/cs_test_nosuchsession")
		if c := bt.Eval[string](t, ctx, `document.cookie`); strings.Contains(c, "left") {
			t.Errorf("the reused tab still has the cookie: %q", c)
		}
	})
}
