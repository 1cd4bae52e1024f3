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

// charLefts is a script that returns, for the element sel, the left edge of
// the first drawn box of each character asked for (by its first occurrence
// in the element's text), so that tests can check the order in which the
// browser drew them.
const charLefts = `(function (sel, chars) {
  var el = document.querySelector(sel), out = {};
  var walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (var node; (node = walk.nextNode());) {
    for (var i = 0; i < node.data.length; i++) {
      var c = node.data[i];
      if (chars.indexOf(c) < 0 || c in out) continue;
      var r = document.createRange();
      r.setStart(node, i);
      r.setEnd(node, i + 1);
      out[c] = r.getBoundingClientRect().left;
    }
  }
  return out;
})(%q, %q)`

// TestBrowserArabicAmountsReadRight draws a US-dollar total and discount
// in Arabic and checks, by where each character landed, that the amount
// reads as CLDR writes it: the number first (rightmost), then the symbol
// "US$" in one piece to its left, the minus sign against the digits.
// Without direction isolation Chromium drew "$US 64.80" and "$-3.20 US".
func TestBrowserArabicAmountsReadRight(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	unit := int64(6800)
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: "ar", Currency: "usd",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Olive oil", Description: "1 kg each month"}}}},
		Fees: []store.AdjustmentParams{{Type: store.AdjustDiscount, Label: "WELCOME", Amount: 320}}})
	ctx := b.ReusedTab(t, 360)
	bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
	for _, tc := range []struct {
		name, sel, order string // order: characters from left to right as drawn
	}{
		{"total", `[data-testid="total"]`, "U$68"},        // US$ 64.80
		{"discount", `[data-kind="discount"] dd`, "U$-3"}, // US$ -3.20
		{"unit in the item's text", `.item-desc`, "1kh"},  // 1 kg each month, left to right inside
	} {
		lefts := bt.Eval[map[string]float64](t, ctx, fmt.Sprintf(charLefts, tc.sel, tc.order))
		for i := 1; i < len(tc.order); i++ {
			a, z := string(tc.order[i-1]), string(tc.order[i])
			la, okA := lefts[a]
			lz, okZ := lefts[z]
			if !okA || !okZ || la >= lz {
				t.Errorf("%s: %q drawn at %v, %q at %v; want %q left of %q (all: %v)", tc.name, a, la, z, lz, a, z, lefts)
			}
		}
	}
	bt.Screenshot(t, ctx, "rtl-arabic-usd-360")
	bt.CheckClean(t, ctx)
	b.CheckAccessible(t, ctx)
}

// TestBrowserStayOnThisPage clicks "Stay on this page" on a paid /success
// page, with and without JavaScript: the button is shown and works either
// way, the page is still there after the redirect's five seconds are up,
// the text says the shopper stays (never blank), and with JavaScript the
// button goes and focus lands on that text, not on <body>.
func TestBrowserStayOnThisPage(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", script), func(t *testing.T) {
			t.Parallel()
			sess := handlertest.CreateSession(t, srv, false, store.SessionParams{SuccessURL: srv.URL + "/healthz"})
			handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
			ctx := b.Tab(t, 360)
			if !script {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
			}
			page := srv.URL + "/pay/" + sess.ID + "/success"
			bt.Open(t, ctx, page)
			if n := bt.Eval[int](t, ctx, `document.querySelectorAll('meta[http-equiv="refresh"]').length`); !script && n != 1 {
				t.Fatalf("without scripts the page has %d refresh, want the one that takes it on", n)
			}
			bt.WaitFor(t, ctx, "[data-stay]", 5*time.Second) // visible: the hidden attribute no longer loses to .button
			bt.Click(t, ctx, "[data-stay]")
			text := `[data-countdown-text]`
			if script {
				bt.WaitGone(t, ctx, "[data-stay]", 5*time.Second)
				if got := bt.Eval[string](t, ctx, `document.activeElement.matches("[data-countdown-text]") ? "text" : document.activeElement.tagName`); got != "text" {
					t.Errorf("after Stay focus is on %s, want the text that says so", got)
				}
			} else {
				page += "?stay=1"
				bt.WaitFor(t, ctx, `[data-testid="stayed"]`, 5*time.Second)
				text = `[data-testid="stayed"] p`
			}
			if script {
				// The redirect was due 5 s after the page loaded: wait until
				// then (on the page's own clock), and see it did not happen.
				bt.Eval[bool](t, ctx, `new Promise(function (done) {
					(function check() { performance.now() > 6500 ? done(true) : setTimeout(check, 100); })();
				})`)
			} else if n := bt.Eval[int](t, ctx, `document.querySelectorAll('meta[http-equiv="refresh"]').length`); n != 0 {
				// Without scripts nothing but a refresh can move the page on.
				t.Errorf("the page stayed on has %d refresh", n)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != page {
				t.Fatalf("after Stay the tab went on to %s", loc)
			}
			if got := strings.TrimSpace(bt.Eval[string](t, ctx, `document.querySelector('`+text+`').textContent`)); got != "The automatic redirect is off. You'll stay on this page." {
				t.Errorf("after Stay the text says %q", got)
			}
			if script { // axe-core needs scripts to run
				b.CheckAccessible(t, ctx)
			}
		})
	}
}

// textSpacing is WCAG 1.4.12's text spacing, as the bookmarklets testers use
// apply it.
const textSpacing = `(function () {
  var s = document.createElement("style");
  s.textContent = "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }";
  document.head.appendChild(s);
  return document.documentElement.scrollWidth - document.documentElement.clientWidth;
})()`

// checkPhoneLayout checks a page open at 360 px (TestBrowserEveryPage
// calls it on every page, last, since it changes the page's spacing):
// merchant, total and the way to pay lie inside the first 800 px of every
// state the shopper can pay in; the first heading is the page's <h1>; a
// plain open checkout has no status banner; with WCAG 1.4.12 text spacing
// nothing overflows sideways.
func checkPhoneLayout(t *testing.T, ctx context.Context, pc handlertest.PageCase) {
	t.Helper()
	if first := bt.Eval[string](t, ctx, `document.querySelector("main").querySelector("h1, h2, h3").tagName`); first != "H1" {
		t.Errorf("the first heading is an <%s>, not the page's <h1>", first)
	}
	state := bt.Eval[string](t, ctx, `document.querySelector("main").dataset.state || ""`)
	if pc.Status == "open" {
		bottoms := bt.Eval[map[string]float64](t, ctx, `(function (q) {
			var bottom = function (el) { return el.getBoundingClientRect().bottom + scrollY; };
			return {
				merchant: bottom(q(".masthead .merchant-name")),
				total: bottom(q('[data-testid="lead-total"]')),
				// Live mode waiting for the provider has no button: its
				// words on that, under the pay column's heading, then.
				pay: bottom(q('[data-testid="pay"]') || q(".pay h2 + *"))
			};
		})(document.querySelector.bind(document))`)
		t.Logf("bottom edges at 360 px: %v", bottoms)
		for what, bottom := range bottoms {
			if bottom > 800 {
				t.Errorf("%s ends %.0f px down, below the fold", what, bottom)
			}
		}
	}
	if n := bt.Eval[int](t, ctx, `document.querySelectorAll('[data-testid="status"]').length`); state == "open" && pc.Name != "recovered-child" && n != 0 {
		t.Errorf("a plain open checkout shows a status banner")
	}
	if overflow := bt.Eval[int](t, ctx, textSpacing); overflow > 0 {
		t.Errorf("with WCAG 1.4.12 text spacing the page is %d px wider than the viewport", overflow)
	}
}

// TestBrowserOrderSummaryFolds folds the order summary away and back, with
// and without JavaScript: the items go and come back, the total above the
// way to pay stays.
func TestBrowserOrderSummaryFolds(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", script), func(t *testing.T) {
			t.Parallel()
			sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
			ctx := b.Tab(t, 360)
			if !script {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
			}
			bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
			bt.WaitFor(t, ctx, `[data-testid="line-item"]`, 5*time.Second)
			shown := `[document.querySelector('[data-testid="line-item"]').checkVisibility(),
				document.querySelector('[data-testid="lead-total"]').checkVisibility()]`
			if got := bt.Eval[[]bool](t, ctx, shown); !got[0] || !got[1] {
				t.Fatalf("before folding: items, total shown %v", got)
			}
			bt.Click(t, ctx, ".summary summary")
			if got := bt.Eval[[]bool](t, ctx, shown); got[0] || !got[1] {
				t.Errorf("folded: items, total shown %v, want [false true]", got)
			}
			bt.Click(t, ctx, ".summary summary")
			if got := bt.Eval[[]bool](t, ctx, shown); !got[0] || !got[1] {
				t.Errorf("unfolded again: items, total shown %v", got)
			}
		})
	}
}

// TestBrowserSmallThings checks the smaller points of issue 15 as a shopper
// sees them: the session reference does not break inside its random part
// at 360 px; a logo sits on a light chip in the dark theme; the 404 page
// follows a dark preference.
func TestBrowserSmallThings(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))

	t.Run("reference", func(t *testing.T) {
		t.Parallel()
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
		ctx := b.ReusedTab(t, 360)
		bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
		// Each text node of the reference (the prefix, then the random part)
		// lies on one line.
		lines := bt.Eval[[]int](t, ctx, `Array.from(document.querySelector(".reference").childNodes).filter(function (n) {
			return n.nodeType === 3;
		}).map(function (n) {
			var r = document.createRange();
			r.selectNodeContents(n);
			return new Set(Array.from(r.getClientRects()).map(function (b) { return Math.round(b.top); })).size;
		})`)
		if len(lines) != 2 || lines[0] != 1 || lines[1] != 1 {
			t.Errorf("lines per part of the reference: %v, want [1 1]", lines)
		}
	})

	t.Run("merchant name with a full stop", func(t *testing.T) {
		t.Parallel()
		off := false
		for _, lang := range []string{"cs", "sl"} { // sentences that end with the merchant
			sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: lang, RecoveryEnabled: &off,
				Appearance: &store.Appearance{DisplayName: "Sunny Side Surf Co."}})
			handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
			ctx := b.ReusedTab(t, 360)
			bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
			text := bt.Eval[string](t, ctx, `document.querySelector("main").innerText`)
			if !strings.Contains(text, "Sunny Side Surf Co.") || strings.Contains(text, "Co..") || strings.Contains(text, "Co.\u2069.") {
				t.Errorf("%s: the merchant's full stop is lost or doubled:\n%s", lang, text)
			}
		}
	})

	t.Run("logo on the dark theme", func(t *testing.T) {
		t.Parallel()
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Appearance: &store.Appearance{
			Theme: "dark", LogoURL: "https://logo.example/dark.svg"}})
		ctx := b.ReusedTab(t, 360)
		bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
		if bg := bt.Eval[string](t, ctx, `getComputedStyle(document.querySelector(".logo")).backgroundColor`); bg != "rgb(255, 255, 255)" {
			t.Errorf("logo chip %s on the dark theme, want white", bg)
		}
	})

	t.Run("404 in the dark", func(t *testing.T) {
		t.Parallel()
		ctx := b.Tab(t, 360)
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
			t.Fatal(err)
		}
		bt.Open(t, ctx, srv.URL+"/pay/cs_test_doesnotexist")
		if bg := bt.Eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 17, 20)" {
			t.Errorf("404 under a dark preference: body background %s, want the dark background", bg)
		}
		b.CheckAccessible(t, ctx)
	})
}
