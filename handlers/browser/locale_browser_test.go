package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	bt "github.com/paypage/paypage/handlers/browsertest"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// localeSession is a session with enough on it to show a layout: items, a
// recurring price, fees, a discount and tax.
func localeSession(t *testing.T, srv *handlertest.Server, locale string) *store.Session {
	t.Helper()
	unit, club := int64(123456), int64(2400)
	return handlertest.CreateSession(t, srv, false, store.SessionParams{Locale: locale, ClientReferenceID: "A-1042",
		LineItems: []store.LineItemParams{
			{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "Mug", Description: "Stoneware"}}},
			{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &club, ProductData: &store.ProductData{Name: "Tea club"},
				Recurring: &store.Recurring{Interval: "month", IntervalCount: 3}}},
		},
		Fees: []store.AdjustmentParams{{Type: store.AdjustShipping, Label: "Shipping", Amount: 500},
			{Type: store.AdjustDiscount, Label: "WELCOME10", Amount: 1000}, {Type: store.AdjustTax, Label: "VAT", Amount: 2000}},
	})
}

// scriptFonts returns the families fontconfig says cover a language, the
// only fonts that may draw its text: anything else drawing it means boxes.
func scriptFonts(t *testing.T, lang string) map[string]bool {
	t.Helper()
	out, err := exec.Command("fc-list", ":lang="+lang, "family").Output()
	if err != nil {
		t.Fatalf("fc-list: %v", err)
	}
	fams := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Split(line, ",") {
			if f = strings.TrimSpace(f); f != "" {
				fams[f] = true
			}
		}
	}
	if len(fams) == 0 {
		t.Fatalf("no font on this machine covers %s: its text would show as boxes (.ci/deps.sh installs fonts-noto-core and fonts-noto-cjk)", lang)
	}
	return fams
}

// fontsFor returns the platform fonts Chromium drew an element's text with.
func fontsFor(t *testing.T, ctx context.Context, sel string) []*css.PlatformFontUsage {
	t.Helper()
	if _, err := chromedp.Call(ctx, dom.Enable, dom.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, css.Enable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	nodes, err := chromedp.Run(bt.WithTimeout(t, ctx, 10*time.Second), chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("%s: %v", sel, err)
	}
	res, err := chromedp.Call(ctx, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: nodes[0].NodeID})
	if err != nil {
		t.Fatal(err)
	}
	return res.Fonts
}

// Arabic and Japanese pages at phone and laptop width: screenshots for
// people to look at, drawn in fonts that have the script's glyphs (no
// boxes), laid out right to left for Arabic, and accessible.
func TestBrowserLocaleArabicAndJapanese(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	for _, tc := range []struct {
		lang, dir string
		script    *regexp.Regexp
	}{
		{"ar", "rtl", regexp.MustCompile(`\p{Arabic}`)},
		{"ja", "ltr", regexp.MustCompile(`[\p{Han}\p{Hiragana}\p{Katakana}ー]`)},
	} {
		fonts := scriptFonts(t, tc.lang)
		sess := localeSession(t, srv, tc.lang)
		// A declined payment, so that the page has a status banner (a
		// checkout just opened has none).
		handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionFail, Source: "api", FailureReason: "card_declined"})
		for _, w := range widths {
			t.Run(fmt.Sprintf("%s/%d", tc.lang, w), func(t *testing.T) {
				t.Parallel()
				ctx := b.Tab(t, w)
				bt.Open(t, ctx, srv.URL+"/pay/"+sess.ID)
				bt.Screenshot(t, ctx, fmt.Sprintf("locale-%s-%d", tc.lang, w))
				got := bt.Eval[[]string](t, ctx, `[document.documentElement.lang, document.documentElement.dir, getComputedStyle(document.body).direction]`)
				if got[0] != tc.lang || got[1] != tc.dir || got[2] != tc.dir {
					t.Errorf("lang, dir, direction: %v", got)
				}
				// Text of the script is drawn by a font that has it: other
				// fonts draw no more glyphs than there are other characters
				// (spaces, digits, punctuation), or there are boxes.
				for _, sel := range []string{`[data-testid="status"] .banner-title`, ".totals .total dt", `label[for="locale-select"]`} {
					text := bt.Eval[string](t, ctx, `document.querySelector(`+jsString(sel)+`).textContent.trim()`)
					other := len([]rune(text)) - len(tc.script.FindAllString(text, -1))
					var inScript, elsewhere float64
					for _, f := range fontsFor(t, ctx, sel) {
						if fonts[f.FamilyName] {
							inScript += f.GlyphCount
						} else {
							elsewhere += f.GlyphCount
						}
					}
					if inScript == 0 || elsewhere > float64(other) {
						t.Errorf("%s %q: %v glyphs in %s fonts, %v in others for %d other characters", sel, text, inScript, tc.lang, elsewhere, other)
					}
				}
				// Mirrored: the line item's amount sits at the end of the line
				// (left in Arabic), the status banner's accent at its start
				// (right), and on a laptop the summary is the first column
				// (right).
				mirrored := bt.Eval[[]bool](t, ctx, `(function () {
					var r = function (s) { return document.querySelector(s).getBoundingClientRect(); };
					var item = r(".item-name"), amount = r(".item-amount");
					var banner = getComputedStyle(document.querySelector(".banner"));
					var summary = r(".lead"), pay = r(".pay"); // the summary column's top
					return [amount.left < item.left,
						parseFloat(banner.borderRightWidth) > parseFloat(banner.borderLeftWidth),
						summary.top === pay.top && summary.left > pay.left];
				})()`)
				rtl := tc.dir == "rtl"
				if mirrored[0] != rtl || mirrored[1] != rtl || (w >= 1280 && mirrored[2] != rtl) {
					t.Errorf("dir=%s: amount left of name %v, banner accent right %v, summary right of payment %v",
						tc.dir, mirrored[0], mirrored[1], mirrored[2])
				}
				if overflow := bt.Eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); overflow > 0 {
					t.Errorf("the page is %d px wider than the viewport", overflow)
				}
				bt.CheckClean(t, ctx)
				b.CheckAccessible(t, ctx)
			})
		}
	}
}

// The switcher, with the keyboard and without JavaScript: from a page in
// English choose Deutsch, land back on the same page in German, and keep
// German on the return pages and the 404 page, over a Japanese session
// locale and a French Accept-Language.
func TestBrowserLocaleSwitcherChoiceSticks(t *testing.T) {
	t.Parallel()
	b := bt.Shared(t)
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := localeSession(t, srv, "")
	ja := localeSession(t, srv, "ja")
	ctx := b.Tab(t, 360)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	lang := func() string { return bt.Eval[string](t, ctx, `document.documentElement.lang`) }
	page := srv.URL + "/pay/" + sess.ID

	bt.Open(t, ctx, page)
	if got := lang(); got != "en" {
		t.Fatalf("before choosing, the page is in %q", got)
	}
	if err := chromedp.Do(bt.WithTimeout(t, ctx, 10*time.Second),
		chromedp.Focus(chromedp.CSS("#locale-select")),
		chromedp.SetValue(chromedp.CSS("#locale-select"), "de"),
		chromedp.Focus(chromedp.CSS(`[data-testid="locale-switcher"] button`)),
		chromedp.KeyEvent("\r"),
	); err != nil {
		t.Fatal(err)
	}
	bt.WaitFor(t, ctx, `html[lang="de"] main`, 10*time.Second)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != page {
		t.Errorf("after choosing, the browser is at %s, want %s", loc, page)
	}
	bt.Screenshot(t, ctx, "locale-switcher-de-360")
	if sel := bt.Eval[string](t, ctx, `document.querySelector("#locale-select").value`); sel != "de" {
		t.Errorf("the switcher shows %q, want de", sel)
	}
	for _, path := range []string{"/success", "/pending", "/cancel"} {
		bt.Open(t, ctx, page+path)
		if got := lang(); got != "de" {
			t.Errorf("%s: lang %q after choosing Deutsch", path, got)
		}
	}

	// The choice beats the session's locale and the browser's language.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "fr-FR,fr;q=0.9"}}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/pay/" + ja.ID, "/pay/" + ja.ID + "/success", "/pay/cs_test_nope"} {
		bt.Open(t, ctx, srv.URL+path)
		if got := lang(); got != "de" {
			t.Errorf("%s (session ja, browser fr): lang %q, want the choice de", path, got)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
