package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/paypage/paypage/handlers/browsertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// screenshotDir is where the browser tests leave a picture of every page
// they looked at (gitignored), for people to look at too.
const screenshotDir = "../test-output/screenshots"

// widths are a small phone and a laptop.
var widths = []int64{360, 1280}

// pageWatch records, from before the page's own code runs, what the
// browser refused: CSP violations and script errors. The tests read it after
// the page loaded; any entry fails them.
const pageWatch = `window.__paypageProblems = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__paypageProblems.push("CSP " + e.violatedDirective + " blocked " + e.blockedURI);
});
window.addEventListener("error", function (e) {
  window.__paypageProblems.push("error: " + (e.message || (e.target && (e.target.src || e.target.href))));
}, true);`

// browser is one headless Chromium for a test.
type browser struct {
	ctx context.Context
	axe string // axe-core's source, injected into pages
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := browsertest.Chromium(t)
	axe, err := os.ReadFile("../testdata/browser/node_modules/axe-core/axe.min.js")
	if err != nil {
		msg := "axe-core is not installed: run `npm ci` in testdata/browser (make test does): " + err.Error()
		if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{ctx: ctx, axe: string(axe)}
}

// tab opens a tab of the given width that watches for refused content.
func (b *browser) tab(t *testing.T, width int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	height := int64(800)
	var vopts []chromedp.EmulateViewportOption
	if width < 600 {
		height = 740
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, vopts...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageWatch}); err != nil {
		t.Fatalf("watch script: %v", err)
	}
	return ctx
}

func withTimeout(t *testing.T, ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}

// open navigates and waits for the page's <main>.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(withTimeout(t, ctx, 20*time.Second), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// waitFor waits until the selector matches a visible element.
func waitFor(t *testing.T, ctx context.Context, sel string, d time.Duration) {
	t.Helper()
	if err := chromedp.Do(withTimeout(t, ctx, d), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("waiting for %s on %s: %v", sel, loc, err)
	}
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(withTimeout(t, ctx, 10*time.Second), chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(withTimeout(t, ctx, 20*time.Second), chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", js, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(withTimeout(t, ctx, 20*time.Second), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeViolation is what the tests report of an axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAccessible runs axe-core's full default rule set (WCAG 2.x A and AA
// and best practices) on the page and fails on any violation.
func (b *browser) checkAccessible(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, b.axe+";true")
	vs := eval[[]axeViolation](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.map(function (v) {
			return {id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(function (n) {
				return n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ");
			})};
		});
	})`)
	for _, v := range vs {
		t.Errorf("axe %s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// checkClean fails on CSP violations, script errors, a style sheet that did
// not apply, or a script that did not run (a wrong SRI hash or nonce).
func checkClean(t *testing.T, ctx context.Context) {
	t.Helper()
	if problems := eval[[]string](t, ctx, `window.__paypageProblems || []`); len(problems) > 0 {
		t.Errorf("the browser refused content:\n\t%s", strings.Join(problems, "\n\t"))
	}
	if !eval[bool](t, ctx, `Array.from(document.querySelectorAll("link[rel=stylesheet]")).every(function (l) { return l.sheet !== null; })`) {
		t.Error("a style sheet did not apply")
	}
	if !eval[bool](t, ctx, `document.documentElement.classList.contains("js")`) {
		t.Error("checkout.js did not run")
	}
}

// TestBrowserEveryPage opens every state's page, and the return and error
// pages, at phone and laptop width: it saves a screenshot, checks that the
// page reports the stored state, that nothing was refused, that nothing
// overflows sideways, and that axe-core finds no violation.
func TestBrowserEveryPage(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	for _, pc := range seedPages(t, srv) {
		for _, w := range widths {
			t.Run(fmt.Sprintf("%s/%d", pc.name, w), func(t *testing.T) {
				ctx := b.tab(t, w)
				open(t, ctx, srv.URL+pc.path)
				screenshot(t, ctx, fmt.Sprintf("%s-%d", pc.name, w))
				if pc.settledReturns {
					// The page would move on to the merchant in 5 s; stay, so
					// that the checks below see it (and the button works).
					click(t, ctx, "[data-stay]")
					if got := eval[string](t, ctx, `document.querySelector("[data-countdown-text]").textContent`); got != "" {
						t.Errorf("after Stay the countdown still says %q", got)
					}
				}
				got := eval[[]string](t, ctx, `[document.querySelector("main").dataset.status, document.querySelector("main").dataset.paymentStatus || ""]`)
				if got[0] != pc.status || (pc.status != "error" && got[1] != pc.payment) {
					t.Errorf("main reports %v, want status %q payment %q", got, pc.status, pc.payment)
				}
				if overflow := eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); overflow > 0 {
					t.Errorf("the page is %d px wider than the viewport", overflow)
				}
				checkClean(t, ctx)
				b.checkAccessible(t, ctx)
			})
		}
	}
}

// TestBrowserDarkModeFollowsTheShopper checks a theme=auto page under the
// shopper's dark preference: different colours, still accessible.
func TestBrowserDarkModeFollowsTheShopper(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	sess := createSession(t, srv, false, store.SessionParams{Appearance: &store.Appearance{Theme: "auto", BrandColor: "#6b3e26"}})
	ctx := b.tab(t, 360)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, srv.URL+"/pay/"+sess.ID)
	screenshot(t, ctx, "auto-theme-dark-360")
	if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 17, 20)" {
		t.Errorf("dark preference: body background %s, want the dark background", bg)
	}
	checkClean(t, ctx)
	b.checkAccessible(t, ctx)
}

// TestBrowserPaySucceedThenSuccessPage clicks through a test-mode payment:
// pay, land on the success page showing the stored complete state, and be
// taken on to the merchant's success_url (with the session id filled in)
// after the countdown.
func TestBrowserPaySucceedThenSuccessPage(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	sess := createSession(t, srv, false, store.SessionParams{SuccessURL: srv.URL + "/healthz?session={CHECKOUT_SESSION_ID}"})
	ctx := b.tab(t, 360)
	open(t, ctx, srv.URL+"/pay/"+sess.ID)
	click(t, ctx, `[data-testid="pay"]`)
	waitFor(t, ctx, `main[data-status="complete"][data-payment-status="paid"] [data-testid="countdown"]`, 10*time.Second)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != srv.URL+"/pay/"+sess.ID+"/success" {
		t.Fatalf("after paying the browser is at %s, want the success page", loc)
	}
	screenshot(t, ctx, "flow-pay-success-360")
	checkClean(t, ctx)
	stored, err := srv.Store.Session(context.Background(), sess.ID)
	if err != nil || stored.Status != store.StatusComplete || stored.PaymentStatus != store.PaymentPaid {
		t.Fatalf("stored session after paying: %+v, %v", stored, err)
	}
	want := srv.URL + "/healthz?session=" + sess.ID
	deadline := time.Now().Add(10 * time.Second)
	for {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if loc == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not redirected to the merchant: at %s, want %s", loc, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBrowserNeedsConfirmationThenSettle clicks "needs confirmation", waits
// on the pending page, settles the payment there, and sees the outcome.
func TestBrowserNeedsConfirmationThenSettle(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	sess := createSession(t, srv, false, store.SessionParams{})
	ctx := b.tab(t, 1280)
	open(t, ctx, srv.URL+"/pay/"+sess.ID)
	click(t, ctx, `[data-testid="confirm"]`)
	waitFor(t, ctx, `main[data-status="processing"][data-payment-status="pending"]`, 10*time.Second)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != srv.URL+"/pay/"+sess.ID+"/pending" {
		t.Fatalf("after 'needs confirmation' the browser is at %s, want the pending page", loc)
	}
	screenshot(t, ctx, "flow-pending-1280")
	click(t, ctx, `[data-testid="settle-succeed"]`)
	waitFor(t, ctx, `main[data-status="complete"][data-payment-status="paid"] [data-testid="return-notice"]`, 10*time.Second)
	screenshot(t, ctx, "flow-pending-settled-1280")
	checkClean(t, ctx)
}

// TestBrowserPendingPageSeesTheOutcome leaves the pending page open while
// the payment settles elsewhere (as a provider's event would): with
// JavaScript the page notices the new version; without it, the <noscript>
// refresh reloads it.
func TestBrowserPendingPageSeesTheOutcome(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", script), func(t *testing.T) {
			sess := createSession(t, srv, false, store.SessionParams{AfterCompletion: &store.AfterCompletion{Type: "hosted"}})
			transitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionProcess, Source: "api"})
			ctx := b.tab(t, 360)
			if !script {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
			}
			open(t, ctx, srv.URL+"/pay/"+sess.ID+"/pending")
			waitFor(t, ctx, `main[data-status="processing"]`, 5*time.Second)
			transitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
			waitFor(t, ctx, `main[data-status="complete"]`, 15*time.Second)
			if n := eval[int](t, ctx, `document.querySelectorAll('[data-countdown="redirect"]').length`); n != 0 {
				t.Error("a hosted completion counts down to a redirect")
			}
		})
	}
}

// TestBrowserExpiryCountdownTicks checks that the countdown of the last
// five minutes moves.
func TestBrowserExpiryCountdownTicks(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	sess := createSession(t, srv, false, store.SessionParams{ExpiresAt: srv.Store.Now().Add(3 * time.Minute).Unix()})
	ctx := b.tab(t, 360)
	open(t, ctx, srv.URL+"/pay/"+sess.ID)
	read := `document.querySelector('[data-testid="countdown"]').textContent.trim()`
	first := eval[string](t, ctx, read)
	time.Sleep(2100 * time.Millisecond)
	if second := eval[string](t, ctx, read); second == first || !strings.Contains(second, "2:5") {
		t.Fatalf("countdown did not tick: %q then %q", first, second)
	}
}

// TestBrowserRecoverExpired restarts an expired session from its page.
func TestBrowserRecoverExpired(t *testing.T) {
	b := newBrowser(t)
	srv := startServer(t, storetest.SQLiteURL(t))
	sess := createSession(t, srv, false, store.SessionParams{})
	transitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
	ctx := b.tab(t, 360)
	open(t, ctx, srv.URL+"/pay/"+sess.ID)
	click(t, ctx, `[data-testid="recover"]`)
	waitFor(t, ctx, `main[data-status="open"]`, 10*time.Second)
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, srv.URL+"/pay/cs_test_") || strings.Contains(loc, sess.ID) {
		t.Fatalf("after recovery the browser is at %s, want a new session's page", loc)
	}
}
