package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium shared by every test of a test binary:
// each test opens tabs of its own (Tab), which may run in parallel. Starting
// a browser per test cost a second or two each, and a fresh profile each.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
	axe    string // axe-core's source, injected into pages

	mu   sync.Mutex
	idle map[int64][]*tab // ReusedTab's tabs between tests, by width
}

// tab is a tab in a browser context of its own.
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
}

var shared struct {
	sync.Mutex
	b   *Browser
	err error
}

// Shared returns the test binary's browser, started by its first caller.
// Without Chromium or axe-core it skips t, or fails it when
// PAYPAGE_REQUIRE_ALL=1. Close it from TestMain once the tests ran.
func Shared(t testing.TB) *Browser {
	t.Helper()
	path := Chromium(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.b == nil && shared.err == nil {
		shared.b, shared.err = start(path)
	}
	if shared.err != nil {
		var missing *missingError
		if errors.As(shared.err, &missing) {
			unavailableTest(t, missing.Error())
		}
		t.Fatalf("start Chromium %s: %v", path, shared.err)
	}
	return shared.b
}

// Close ends the shared browser, if one was started.
func Close() {
	shared.Lock()
	defer shared.Unlock()
	if shared.b != nil {
		shared.b.cancel()
		shared.b = nil
	}
}

// missingError is a part the browser tests need that is not installed.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

func start(path string) (*Browser, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	axe, err := os.ReadFile(filepath.Join(root, "testdata/browser/node_modules/axe-core/axe.min.js"))
	if err != nil {
		return nil, &missingError{"axe-core is not installed: run `npm ci` in testdata/browser (make test does): " + err.Error()}
	}
	if err := os.MkdirAll(ScreenshotDir(), 0o755); err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("font-render-hinting", "none"),
		// chromedp's own two, and the omnibox popups that Chromium (156)
		// preloads as WebUI pages, in a renderer of their own, for every
		// browser context, that is every Tab. Nothing here shows an
		// omnibox, but those renderers woke with every page a test loaded:
		// with them a page's open, screenshot and axe-core run cost 3.4
		// times the CPU (7.5 s against 2.2 s), most of the browser tests'.
		//
		// And no spare renderer: Chromium starts a process ahead of the
		// next navigation to another site, so each test's first one, from
		// about:blank to a test server, started two. TestBrowserEveryPage
		// took 15 % less CPU without (129 CPU-s in two runs, against 141,
		// 152 and 173 with it). Site isolation stays: the live embed tests
		// look into the cross-origin frame as a process of its own.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,"+
			"PreloadTopChromeWebUI,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,"+
			"SpareRendererForSitePerProcess"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		return nil, err
	}
	return &Browser{ctx: ctx, axe: string(axe), cancel: func() { cancel(); cancelAlloc() },
		idle: map[int64][]*tab{}}, nil
}

// moduleRoot is the directory of go.mod, above the test's package directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ScreenshotDir is where the browser tests leave a picture of every page
// they looked at (gitignored), for people to look at too.
func ScreenshotDir() string {
	root, err := moduleRoot()
	if err != nil {
		return "test-output/screenshots"
	}
	return filepath.Join(root, "test-output", "screenshots")
}

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

// Tab opens a tab of the given width, closed when t ends, that watches for
// refused content. Below 600 px it emulates a phone (740 px high). Each tab
// is a browser context of its own, like a private window: tests running
// side by side share no cookies (every test server sets its own cookie on
// 127.0.0.1, whatever the port, and would refuse the others').
func (b *Browser) Tab(t testing.TB, width int64) context.Context {
	t.Helper()
	tb, err := b.newTab(width)
	if err != nil {
		t.Fatalf("new tab: %v", err)
	}
	t.Cleanup(tb.cancel)
	return tb.ctx
}

// ReusedTab is a Tab that earlier tests may have used, handed back without
// cookies and on a blank page: a new browser context costs Chromium about a
// second of CPU, as much as loading and checking a page. It is for tests
// that navigate, read, click and take pictures; a test that changes the
// tab's settings (emulation, network, listeners, script) takes a Tab.
// After a test that failed the tab is closed, not reused.
func (b *Browser) ReusedTab(t testing.TB, width int64) context.Context {
	t.Helper()
	b.mu.Lock()
	var tb *tab
	if idle := b.idle[width]; len(idle) > 0 {
		tb, b.idle[width] = idle[len(idle)-1], idle[:len(idle)-1]
	}
	b.mu.Unlock()
	if tb == nil {
		var err error
		if tb, err = b.newTab(width); err != nil {
			t.Fatalf("new tab: %v", err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() || tb.reset() != nil {
			tb.cancel()
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.idle[width] = append(b.idle[width], tb)
	})
	return tb.ctx
}

// reset forgets the tab's cookies and leaves its page for a blank one.
func (tb *tab) reset() error {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		return err
	}
	return chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// newTab opens a tab in a new browser context, closed with the browser.
func (b *Browser) newTab(width int64) (*tab, error) {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	height := int64(800)
	var vopts []chromedp.EmulateViewportOption
	if width < 600 {
		height = 740
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, vopts...)); err != nil {
		cancel()
		return nil, fmt.Errorf("viewport: %w", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageWatch}); err != nil {
		cancel()
		return nil, fmt.Errorf("watch script: %w", err)
	}
	return &tab{ctx: ctx, cancel: cancel}, nil
}

// WithTimeout bounds ctx by d, until t ends.
func WithTimeout(t testing.TB, ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}

// Open navigates and waits for the page's <main>.
func Open(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(WithTimeout(t, ctx, 20*time.Second), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// WaitFor waits until the selector matches a visible element.
func WaitFor(t testing.TB, ctx context.Context, sel string, d time.Duration) {
	t.Helper()
	if err := chromedp.Do(WithTimeout(t, ctx, d), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("waiting for %s on %s: %v", sel, loc, err)
	}
}

// WaitLocation waits until the tab is at url. It asks the browser rather
// than the page, whose scripts end with every navigation.
func WaitLocation(t testing.TB, ctx context.Context, url string, d time.Duration) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if loc == url {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the tab is at %s, want %s within %v", loc, url, d)
		}
	}
}

// Click clicks the first element the selector matches.
func Click(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(WithTimeout(t, ctx, 10*time.Second), chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// Eval evaluates js in the page (awaiting a promise) and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(WithTimeout(t, ctx, 20*time.Second), chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", js, err)
	}
	return v
}

// Screenshot saves the whole page as ScreenshotDir()/name.png.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(WithTimeout(t, ctx, 20*time.Second), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(ScreenshotDir(), name+".png"), png, 0o644); err != nil {
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

// CheckAccessible runs axe-core's full default rule set (WCAG 2.x A and AA
// and best practices) on the page and fails on any violation.
func (b *Browser) CheckAccessible(t testing.TB, ctx context.Context) {
	t.Helper()
	Eval[bool](t, ctx, b.axe+";true")
	vs := Eval[[]axeViolation](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
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

// Problems is what the page's watch recorded: CSP violations and script
// errors.
func Problems(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Eval[[]string](t, ctx, `window.__paypageProblems || []`)
}

// CheckClean fails on CSP violations, script errors, a style sheet that did
// not apply, or a script that did not run (a wrong SRI hash or nonce): a
// page that loads checkout.js must have run it.
func CheckClean(t testing.TB, ctx context.Context) {
	t.Helper()
	if problems := Problems(t, ctx); len(problems) > 0 {
		t.Errorf("the browser refused content:\n\t%s", strings.Join(problems, "\n\t"))
	}
	if !Eval[bool](t, ctx, `Array.from(document.querySelectorAll("link[rel=stylesheet]")).every(function (l) { return l.sheet !== null; })`) {
		t.Error("a style sheet did not apply")
	}
	if !Eval[bool](t, ctx, `!document.querySelector('script[src*="/checkout."]') || document.documentElement.classList.contains("js")`) {
		t.Error("checkout.js did not run")
	}
}

// WaitGone waits until the selector matches no element.
func WaitGone(t testing.TB, ctx context.Context, sel string, d time.Duration) {
	t.Helper()
	if err := chromedp.Do(WithTimeout(t, ctx, d), chromedp.WaitNotPresent(chromedp.CSS(sel))); err != nil {
		t.Fatalf("waiting for %s to go: %v", sel, err)
	}
}
