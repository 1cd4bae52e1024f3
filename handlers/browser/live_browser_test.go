package browser_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	bt "github.com/paypage/paypage/handlers/browsertest"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// merchantSite serves, from its own loopback address (another origin than
// paypage's), a shop page that frames the widget at the URL given in the
// "embed" query parameter and listens for its messages the way docs/live.md
// tells merchants to: only messages from paypage's origin count.
func merchantSite(t *testing.T, ip, paypage string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><title>Shop</title></head><body>
<h1>Your order</h1>
<iframe id="paypage-status" src="%s" title="Payment status" width="360" height="120"></iframe>
<script>
  window.statuses = [];
  window.addEventListener("message", function (event) {
    if (event.origin !== %q) return;
    if (!event.data || event.data.type !== "paypage.status") return;
    window.statuses.push(event.data);
  });
</script></body></html>`, html.EscapeString(r.URL.Query().Get("embed")), paypage)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// statusMessages reads what the shop page received from the widget.
func statusMessages(t *testing.T, ctx context.Context) []map[string]any {
	t.Helper()
	return bt.Eval[[]map[string]any](t, ctx, `window.statuses || []`)
}

// waitMessage waits until the shop page received a message with status and
// returns how long that took.
func waitMessage(t *testing.T, ctx context.Context, status string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_, err := chromedp.Run(bt.WithTimeout(t, ctx, d), chromedp.Poll[bool](
		`(window.statuses || []).some(function (m) { return m.status === `+fmt.Sprintf("%q", status)+`; })`,
		chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		t.Fatalf("no %s message within %v; received %v", status, d, statusMessages(t, ctx))
	}
	return time.Since(start)
}

// framedDocument reports what the frame loaded from src holds: the URL of
// its document and whether that is the widget. A frame the browser refused
// holds its error page (chrome-error://…) whatever src said. src must be
// unique to the tab, since targets are looked up by URL.
func framedDocument(t *testing.T, ctx context.Context, src string) (string, bool) {
	t.Helper()
	targets, err := chromedp.CallBrowser(ctx, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		t.Fatalf("targets: %v", err)
	}
	for _, ti := range targets.TargetInfos {
		if ti.Type != "iframe" || ti.URL != src {
			continue
		}
		// Ended with the test: cancelling an attached context early ends
		// its tab's session too.
		fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
		t.Cleanup(cancel)
		type doc struct {
			URL    string `json:"url"`
			Widget bool   `json:"widget"`
		}
		d, err := chromedp.Run(bt.WithTimeout(t, fctx, 10*time.Second), chromedp.Evaluate[doc](
			`({url: location.href, widget: document.querySelector("[data-widget]") !== null})`))
		if err != nil {
			t.Fatalf("read the frame of %s: %v", src, err)
		}
		return d.URL, d.Widget
	}
	t.Fatalf("no frame loaded %s", src)
	return "", false
}

func TestLiveBrowserEmbedOnAnotherOriginGetsEveryStatus(t *testing.T) {
	b := bt.Shared(t)
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := handlertest.StartInstance(t, dbURL, time.Second)
		shop := merchantSite(t, "127.0.0.2", in.URL)
		stranger := merchantSite(t, "127.0.0.3", in.URL)
		m, keys := handlertest.Merchant(t, in.Store, shop)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		probes := 0
		embed := func(origin string) string {
			probes++ // a distinct URL per frame, to find its target (the widget ignores it)
			return in.URL + "/pay/" + sess.ID + "/embed?origin=" + url.QueryEscape(origin) + "&probe=" + strconv.Itoa(probes)
		}

		ctx := b.ReusedTab(t, 1280)
		src := embed(shop)
		if err := chromedp.Do(bt.WithTimeout(t, ctx, 20*time.Second), chromedp.Navigate(shop+"/?embed="+url.QueryEscape(src))); err != nil {
			t.Fatal(err)
		}
		waitMessage(t, ctx, "open", 5*time.Second)
		first := statusMessages(t, ctx)[0]
		want := map[string]any{"type": "paypage.status", "id": sess.ID, "status": "open", "payment_status": "unpaid", "version": float64(1)}
		for k, v := range want {
			if first[k] != v {
				t.Fatalf("message on load: %v, want %v", first, want)
			}
		}

		code, resp := in.PostEvent(t, keys.Test, map[string]any{"id": "evt_browser_1", "type": "payment.succeeded", "session": sess.ID})
		if code != 200 {
			t.Fatalf("event: %d %v", code, resp)
		}
		took := waitMessage(t, ctx, "complete", 5*time.Second)
		t.Logf("a posted event reached the merchant page on %s through the embed in %v", shop, took)
		if took > time.Second {
			t.Errorf("the embed took %v to report the change, want under 1 s", took)
		}
		last := statusMessages(t, ctx)
		if m := last[len(last)-1]; m["payment_status"] != "paid" || m["version"] != float64(2) {
			t.Errorf("last message %v", m)
		}
		if u, widget := framedDocument(t, ctx, src); u != src || !widget {
			t.Errorf("the shop's frame holds %s (widget: %v)", u, widget)
		}
		bt.Screenshot(t, ctx, "live-embed-"+t.Name()[strings.LastIndex(t.Name(), "/")+1:])

		// A page of an origin the merchant did not list can frame neither
		// the widget meant for the shop nor one asked for itself.
		for _, src := range []string{embed(shop), embed(stranger)} {
			ctx := b.ReusedTab(t, 1280)
			if err := chromedp.Do(bt.WithTimeout(t, ctx, 20*time.Second), chromedp.Navigate(stranger+"/?embed="+url.QueryEscape(src))); err != nil {
				t.Fatal(err)
			}
			// The frame holding the browser's error page is proof enough
			// that no widget ran in it, so no message can come later: there
			// is nothing to wait for.
			if u, widget := framedDocument(t, ctx, src); widget || !strings.HasPrefix(u, "chrome-error:") {
				t.Errorf("%s framed %s: the frame holds %s (widget: %v), want the browser's error page", stranger, src, u, widget)
			}
			if got := statusMessages(t, ctx); len(got) != 0 {
				t.Errorf("%s framed %s and received %v", stranger, src, got)
			}
		}
	})
}

func TestLiveBrowserEmbedUpdatesInPlace(t *testing.T) {
	b := bt.Shared(t)
	in := handlertest.StartInstance(t, storetest.SQLiteURL(t), time.Second)
	m, keys := handlertest.Merchant(t, in.Store, "https://shop.example")
	sess := handlertest.MugSession(t, in.Store, m, nil)
	ctx := b.ReusedTab(t, 1280)
	bt.Open(t, ctx, in.URL+"/pay/"+sess.ID+"/embed?origin=https%3A%2F%2Fshop.example")
	bt.WaitFor(t, ctx, `[data-testid="embed-status"][data-state="open"]`, 5*time.Second)
	bt.Eval[bool](t, ctx, `window.__sameDocument = true`)
	if code, resp := in.PostEvent(t, keys.Test, map[string]any{"id": "evt_inplace", "type": "payment.processing", "session": sess.ID}); code != 200 {
		t.Fatalf("event: %d %v", code, resp)
	}
	bt.WaitFor(t, ctx, `[data-testid="embed-status"][data-state="processing"]`, 3*time.Second)
	if !bt.Eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Error("the widget reloaded instead of updating in place")
	}
	if text := bt.Eval[string](t, ctx, `document.querySelector('[data-testid="embed-status"]').textContent`); !strings.Contains(text, "Processing") {
		t.Errorf("widget text %q", text)
	}
	if problems := bt.Eval[[]string](t, ctx, `window.__paypageProblems || []`); len(problems) > 0 {
		t.Errorf("the browser refused content:\n\t%s", strings.Join(problems, "\n\t"))
	}
	b.CheckAccessible(t, ctx)
	bt.Screenshot(t, ctx, "live-embed-processing")
}

// failingEventSource stands in for EventSource: every stream fails at once,
// as behind a proxy that refuses them, so the page must fall back to polling.
const failingEventSource = `window.EventSource = function () {
  var es = this;
  es.readyState = 0;
  es.close = function () { es.readyState = 2; };
  es.addEventListener = function () {};
  setTimeout(function () { es.readyState = 2; if (es.onerror) es.onerror(new Event("error")); }, 10);
};
window.EventSource.CLOSED = 2;`

func TestLiveBrowserPagesFollowTheSession(t *testing.T) {
	b := bt.Shared(t)
	in := handlertest.StartInstance(t, storetest.SQLiteURL(t), time.Second)
	m, keys := handlertest.Merchant(t, in.Store)
	n := 0
	event := func(t *testing.T, id, typ string) {
		t.Helper()
		n++
		if code, resp := in.PostEvent(t, keys.Test, map[string]any{"id": fmt.Sprintf("evt_page_%d", n), "type": typ, "session": id}); code != 200 {
			t.Fatalf("event: %d %v", code, resp)
		}
	}
	waitState := func(t *testing.T, ctx context.Context, status string, d time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		bt.WaitFor(t, ctx, `main[data-status="`+status+`"]`, d)
		return time.Since(start)
	}

	t.Run("pending page advances by itself", func(t *testing.T) {
		sess := handlertest.MugSession(t, in.Store, m, nil)
		event(t, sess.ID, "payment.processing")
		ctx := b.ReusedTab(t, 1280)
		bt.Open(t, ctx, in.URL+"/pay/"+sess.ID+"/pending")
		waitState(t, ctx, "processing", 5*time.Second)
		event(t, sess.ID, "payment.succeeded")
		took := waitState(t, ctx, "complete", 5*time.Second)
		t.Logf("the pending page showed the payment %v after the event", took)
		if took > 1500*time.Millisecond {
			t.Errorf("the pending page took %v", took)
		}
		bt.WaitFor(t, ctx, `[data-countdown="redirect"]`, 2*time.Second) // and it moves on to the merchant
		_, err := chromedp.Run(bt.WithTimeout(t, ctx, 3*time.Second), chromedp.Poll[bool](
			`document.querySelector("[data-live-announcer]").textContent.length > 0`))
		if err != nil {
			t.Error("the new status was not announced to screen readers")
		} else if said, title := bt.Eval[string](t, ctx, `document.querySelector("[data-live-announcer]").textContent`),
			bt.Eval[string](t, ctx, `document.querySelector("main [role=status] .banner-title").textContent.trim()`); !strings.HasPrefix(said, title+" ") {
			t.Errorf("the announcement %q does not set the title %q apart from what follows", said, title)
		}
		bt.CheckClean(t, ctx)
	})

	t.Run("checkout page shows the payment being processed", func(t *testing.T) {
		sess := handlertest.MugSession(t, in.Store, m, nil)
		ctx := b.ReusedTab(t, 1280)
		bt.Open(t, ctx, in.URL+"/pay/"+sess.ID)
		waitState(t, ctx, "open", 5*time.Second)
		event(t, sess.ID, "payment.processing")
		if took := waitState(t, ctx, "processing", 5*time.Second); took > 1500*time.Millisecond {
			t.Errorf("the checkout page took %v", took)
		}
		bt.CheckClean(t, ctx)
		b.CheckAccessible(t, ctx)
	})

	t.Run("polls the status while streams fail", func(t *testing.T) {
		sess := handlertest.MugSession(t, in.Store, m, nil)
		ctx := b.Tab(t, 1280)
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: failingEventSource}); err != nil {
			t.Fatal(err)
		}
		bt.Open(t, ctx, in.URL+"/pay/"+sess.ID)
		waitState(t, ctx, "open", 5*time.Second)
		event(t, sess.ID, "payment.canceled")
		took := waitState(t, ctx, "canceled", 6*time.Second)
		t.Logf("polling /status showed the change after %v", took)
	})

	t.Run("expires by the clock while open", func(t *testing.T) {
		sess := handlertest.MugSession(t, in.Store, m, func(p *store.SessionParams) {
			p.ExpiresAt = in.Store.Now().Add(65 * time.Second).Unix()
		})
		in.Shift.Store(int64(60 * time.Second)) // about five seconds left
		ctx := b.ReusedTab(t, 1280)
		bt.Open(t, ctx, in.URL+"/pay/"+sess.ID)
		waitState(t, ctx, "open", 5*time.Second)
		waitState(t, ctx, "expired", 8*time.Second)
	})
}
