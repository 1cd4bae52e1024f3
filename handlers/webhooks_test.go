package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/stripeschema"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// ofType counts the deliveries of one event type.
func ofType(got []handlertest.Received, typ string) int {
	n := 0
	for _, r := range got {
		if string(r.Event.Type) == typ {
			n++
		}
	}
	return n
}

// A merchant registers an endpoint with Stripe's Go client and verifies
// every delivery with webhook.ConstructEvent, unchanged: checkout.session.
// completed arrives within a second of the payment event, every later
// change too, and each names the request that made it.
//
// Not parallel: it bounds a latency, so it runs before the parallel tests.
func TestWebhooksReachAStripeReceiverWithinASecond(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.StartWith(t, dbURL, func(cfg *handlers.Config) { cfg.WebhookAllowPrivate = true })
		recv := handlertest.StartReceiver(t)
		recorded := make(chan string, 100)
		handlertest.StartWorker(t, srv.Store, nil, recv.Roots, func(cfg *webhook.Config) {
			cfg.OnAttempt = func(result string, _ time.Duration) { recorded <- result }
		})
		sc, _ := stripeClient(t, srv, srv.Keys.Test)
		ctx := context.Background()

		we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
			URL: stripe.String(recv.URL), EnabledEvents: stripe.StringSlice([]string{"*"}), Description: stripe.String("orders")})
		if err != nil {
			t.Fatalf("create endpoint: %v", err)
		}
		// stripe-go sent its Stripe-Version: the endpoint's events are in
		// that version, which ConstructEvent insists on.
		if !strings.HasPrefix(we.ID, "we_") || !strings.HasPrefix(we.Secret, "whsec_") || we.APIVersion != stripe.APIVersion ||
			we.Status != "enabled" || we.URL != recv.URL || !slices.Equal(we.EnabledEvents, []string{"*"}) {
			t.Fatalf("endpoint = %+v", we)
		}
		recv.SetSecret(we.Secret)

		s, err := sc.V1CheckoutSessions.Create(ctx, mugParams("order-1"))
		if err != nil {
			t.Fatal(err)
		}
		api := newAPIClient(t, srv, srv.Keys.Test)
		paid := api.do("POST", "/v1/payment_events", `{"id":"evt_pay_1","type":"payment.succeeded","session":"`+s.ID+`"}`,
			"Idempotency-Key", "pay-order-1")
		applied := time.Now() // the event's answer: it was committed
		if paid.Status != 200 {
			t.Fatalf("payment event: %d %s", paid.Status, paid.Raw)
		}
		got := recv.WaitFor(t, 5*time.Second, "checkout.session.completed", func(r []handlertest.Received) bool { return len(r) >= 1 })
		latency := max(0, got[0].At.Sub(applied)) // often it arrives before the event is even answered
		t.Logf("checkout.session.completed reached the receiver %v after the payment event was applied", latency)
		if latency >= time.Second {
			t.Errorf("latency %v, want under 1 s", latency)
		}
		ev := got[0].Event
		obj := ev.Data.Object
		if ev.Type != "checkout.session.completed" || ev.APIVersion != stripe.APIVersion || ev.Livemode || !strings.HasPrefix(ev.ID, "evt_") ||
			ev.Request == nil || ev.Request.ID != paid.Header.Get("Request-Id") || ev.Request.IdempotencyKey != "pay-order-1" ||
			ev.PendingWebhooks != 1 || obj["id"] != s.ID || obj["status"] != "complete" || obj["payment_status"] != "paid" ||
			obj["paypage"].(map[string]any)["version"] != float64(2) || got[0].SessionVersion != 2 {
			t.Fatalf("delivered %+v, object %v, version header %d", ev, obj, got[0].SessionVersion)
		}
		// The endpoint was made by a Stripe client: its events carry the
		// session in Stripe's dialect, as Stripe's schema has it.
		raw, _ := json.Marshal(obj)
		if err := stripeschema.Validate("checkout.session", raw); err != nil {
			t.Errorf("data.object is not Stripe's checkout.session: %v", err)
		}

		// A refund, and an expiry the merchant asks for.
		if r := api.do("POST", "/v1/payment_events", `{"id":"evt_refund_1","type":"payment.refunded","session":"`+s.ID+`","amount":100}`); r.Status != 200 {
			t.Fatalf("refund: %d %s", r.Status, r.Raw)
		}
		other, err := sc.V1CheckoutSessions.Create(ctx, mugParams("order-2"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.V1CheckoutSessions.Expire(ctx, other.ID, nil); err != nil {
			t.Fatal(err)
		}
		got = recv.WaitFor(t, 5*time.Second, "the refund and the expiry", func(r []handlertest.Received) bool { return len(r) >= 3 })
		if ofType(got, "checkout.session.refunded") != 1 || ofType(got, "checkout.session.expired") != 1 {
			t.Fatalf("delivered %d events: %v", len(got), got)
		}
		if refused := recv.Refused(); len(refused) != 0 {
			t.Fatalf("deliveries that failed verification: %v", refused)
		}

		// The same events through the API, in the reader's version; and
		// the record of each attempt.
		var types []string
		for e, err := range sc.V1Events.List(ctx, &stripe.EventListParams{}).All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if e.APIVersion != stripe.APIVersion {
				t.Errorf("event %s listed in version %q", e.ID, e.APIVersion)
			}
			types = append(types, string(e.Type))
		}
		if !slices.Equal(types, []string{"checkout.session.expired", "checkout.session.refunded", "checkout.session.completed"}) {
			t.Fatalf("listed %v", types)
		}
		// Without a version header: the merchant's pinned version, paypage's
		// own objects.
		read := api.mustOK("GET", "/v1/events/"+ev.ID, "")
		if read["api_version"] != store.APIVersionNative || read["type"] != "checkout.session.completed" || read["pending_webhooks"] != float64(0) ||
			read["data"].(map[string]any)["object"].(map[string]any)["version"] != float64(2) {
			t.Fatalf("GET without Stripe-Version: %v", read)
		}
		if l := api.mustOK("GET", "/v1/events?type=checkout.session.expired", ""); len(l["data"].([]any)) != 1 {
			t.Fatalf("filtered list: %v", l)
		}
		attempts := api.mustOK("GET", "/v1/events/"+ev.ID+"/delivery_attempts", "")["data"].([]any)
		if len(attempts) != 1 {
			t.Fatalf("attempts: %v", attempts)
		}
		if a := attempts[0].(map[string]any); a["succeeded"] != true || a["status_code"] != float64(200) || a["webhook_endpoint"] != we.ID || a["error"] != nil {
			t.Fatalf("attempt: %v", a)
		}

		// Sent again on request (as `stripe events resend` asks).
		if r := api.do("POST", "/v1/events/"+ev.ID+"/retry", "webhook_endpoint="+we.ID); r.Status != 200 {
			t.Fatalf("retry: %d %s", r.Status, r.Raw)
		}
		got = recv.WaitFor(t, 5*time.Second, "the resent event", func(r []handlertest.Received) bool { return len(r) >= 4 })
		if got[3].Event.ID != ev.ID {
			t.Fatalf("resent %s, want %s", got[3].Event.ID, ev.ID)
		}
		for i := range 4 {
			select {
			case result := <-recorded:
				if result != webhook.ResultSucceeded {
					t.Fatalf("attempt %d: %s", i+1, result)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("attempt %d was not recorded", i+1)
			}
		}
		if n := len(api.mustOK("GET", "/v1/webhook_endpoints/"+we.ID+"/delivery_attempts", "")["data"].([]any)); n != 4 {
			t.Fatalf("%d attempts listed for the endpoint, want 4", n)
		}
	})
}

// A receiver that is down misses nothing: the events made meanwhile come
// once it is back, on the retry schedule (the clock is moved, not waited on).
func TestWebhooksReachAReceiverThatWasDownOnceItIsBack(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := handlertest.StartInstance(t, dbURL, time.Second)
		recv := handlertest.StartReceiver(t)
		failed := make(chan string, 100)
		w := handlertest.StartWorker(t, in.Store, in.Hub, recv.Roots, func(cfg *webhook.Config) {
			cfg.OnAttempt = func(result string, _ time.Duration) {
				if result != webhook.ResultSucceeded {
					failed <- result
				}
			}
		})
		m, keys := handlertest.Merchant(t, in.Store)
		e, err := in.Store.CreateWebhookEndpoint(context.Background(), m.ID, false, store.WebhookEndpointParams{
			URL: &recv.URL, EnabledEvents: []string{"*"}, APIVersion: stripe.String(stripe.APIVersion)})
		if err != nil {
			t.Fatal(err)
		}
		recv.SetSecret(e.Secret)

		recv.Down()
		var ids []string
		for i, typ := range []string{"payment.succeeded", "payment.failed", "payment.canceled"} {
			sess := handlertest.MugSession(t, in.Store, m, nil)
			if code, body := in.PostEvent(t, keys.Test, map[string]any{"id": "evt_down_" + string(rune('a'+i)), "type": typ, "session": sess.ID}); code != 200 {
				t.Fatalf("%s: %d %v", typ, code, body)
			}
			ids = append(ids, sess.ID)
		}
		for range ids {
			select {
			case result := <-failed:
				if result != webhook.ResultError {
					t.Fatalf("an attempt to a closed port: %s", result)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the first attempts were not made")
			}
		}
		if n := len(recv.Events()); n != 0 {
			t.Fatalf("%d deliveries while down", n)
		}

		recv.Up()
		in.Shift.Add(int64(2 * store.RetryBase)) // the first retries fall due
		w.Wake()
		got := recv.WaitFor(t, 10*time.Second, "the events made while down", func(r []handlertest.Received) bool { return len(r) >= 3 })
		sessions := map[string]string{}
		for _, r := range got {
			sessions[r.Event.Data.Object["id"].(string)] = string(r.Event.Type)
		}
		if len(got) != 3 || sessions[ids[0]] != "checkout.session.completed" || sessions[ids[1]] != "checkout.session.payment_failed" ||
			sessions[ids[2]] != "checkout.session.canceled" {
			t.Fatalf("delivered %v", sessions)
		}
	})
}

// Two instances on one PostgreSQL database, each with its worker, both
// woken by every change: each event reaches the receiver exactly once.
func TestWebhooksTwoInstancesOnPostgresDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	a := handlertest.StartInstance(t, dbURL, time.Second)
	b := handlertest.StartInstance(t, dbURL, time.Second)
	recv := handlertest.StartReceiver(t)
	var attempts [2]atomic.Int64
	for i, in := range []*handlertest.Instance{a, b} {
		handlertest.StartWorker(t, in.Store, in.Hub, recv.Roots, func(cfg *webhook.Config) {
			cfg.OnAttempt = func(string, time.Duration) { attempts[i].Add(1) }
		})
	}
	m, keys := handlertest.Merchant(t, a.Store)
	e, err := a.Store.CreateWebhookEndpoint(context.Background(), m.ID, false, store.WebhookEndpointParams{
		URL: &recv.URL, EnabledEvents: []string{"*"}, APIVersion: stripe.String(stripe.APIVersion)})
	if err != nil {
		t.Fatal(err)
	}
	recv.SetSecret(e.Secret)

	const n = 24
	for i := range n {
		in := []*handlertest.Instance{a, b}[i%2]
		sess := handlertest.MugSession(t, in.Store, m, nil)
		if code, body := in.PostEvent(t, keys.Test, map[string]any{"id": "evt_two_" + sess.ID, "type": "payment.succeeded", "session": sess.ID}); code != 200 {
			t.Fatalf("payment event: %d %v", code, body)
		}
	}
	got := recv.WaitFor(t, 20*time.Second, "every event", func(r []handlertest.Received) bool { return len(r) >= n })
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Event.ID]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events of %d deliveries, want %d", len(seen), len(got), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	// Each delivery was claimed once: one attempt each, whichever
	// instance made it.
	var claims []int
	if err := a.Store.DB().SelectContext(context.Background(), &claims, `SELECT attempts FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if len(claims) != n || slices.Max(claims) != 1 {
		t.Fatalf("claims per delivery: %v", claims)
	}
	t.Logf("instance A made %d attempts, B %d", attempts[0].Load(), attempts[1].Load())
	if refused := recv.Refused(); len(refused) != 0 {
		t.Fatalf("deliveries that failed verification: %v", refused)
	}
}

// Endpoints must be https and public: loopback, private, link-local and
// metadata addresses are refused at registration, unless the operator
// allows them (PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1); and at delivery, whatever
// the name resolved to when it was registered.
func TestWebhookEndpointsOnPrivateAddressesAreRefused(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		strict := handlertest.Start(t, dbURL)
		lenient := handlertest.StartWith(t, storetest.SQLiteURL(t), func(cfg *handlers.Config) { cfg.WebhookAllowPrivate = true })
		for _, u := range []string{
			"https://127.0.0.1/hooks", "https://10.0.0.1/hooks", "https://localhost:8443/hooks", "https://[::1]/hooks",
			"https://[::ffff:127.0.0.1]/hooks", "https://169.254.169.254/latest/meta-data", "https://192.168.1.10/hooks",
			"https://100.64.0.1/hooks", "https://[fd00::1]/hooks", "https://0.0.0.0/hooks",
		} {
			body := url.Values{"url": {u}, "enabled_events[]": {"*"}}.Encode()
			r := newAPIClient(t, strict, strict.Keys.Test).do("POST", "/v1/webhook_endpoints", body)
			if r.Status != 400 || r.err()["param"] != "url" {
				t.Errorf("%s registered by default: %d %s", u, r.Status, r.Raw)
			}
			if r := newAPIClient(t, lenient, lenient.Keys.Test).do("POST", "/v1/webhook_endpoints", body); r.Status != 200 {
				t.Errorf("%s refused with PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1: %d %s", u, r.Status, r.Raw)
			}
		}
		for _, u := range []string{"http://10.0.0.1/hooks", "http://shop.example/hooks"} {
			r := newAPIClient(t, lenient, lenient.Keys.Test).do("POST", "/v1/webhook_endpoints", url.Values{"url": {u}, "enabled_events[]": {"*"}}.Encode())
			if r.Status != 400 || r.err()["param"] != "url" {
				t.Errorf("%s (not https) registered: %d %s", u, r.Status, r.Raw)
			}
		}
		if n := count(t, strict, "webhook_endpoints"); n != 0 {
			t.Fatalf("%d endpoints stored by refused registrations", n)
		}

		// An endpoint whose name now resolves to loopback (registered
		// when it did not, say): the delivery is refused at connection.
		recv := handlertest.StartReceiver(t)
		results := make(chan string, 10)
		handlertest.StartWorker(t, strict.Store, nil, recv.Roots, func(cfg *webhook.Config) {
			cfg.AllowPrivate = false
			cfg.OnAttempt = func(result string, _ time.Duration) { results <- result }
		})
		rebound := strings.Replace(recv.URL, "127.0.0.1", "localhost", 1)
		e, err := strict.Store.CreateWebhookEndpoint(context.Background(), strict.Merchant.ID, false, store.WebhookEndpointParams{
			URL: &rebound, EnabledEvents: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		recv.SetSecret(e.Secret)
		sess := handlertest.CreateSession(t, strict, false, store.SessionParams{})
		handlertest.TransitionTo(t, strict, sess.ID, store.Transition{Action: store.ActionSucceed})
		select {
		case result := <-results:
			if result != webhook.ResultRefused {
				t.Fatalf("a delivery to loopback: %s", result)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no attempt was made")
		}
		list, _, err := strict.Store.ListDeliveryAttempts(context.Background(), strict.Merchant.ID, false, store.AttemptFilter{EndpointID: e.ID}, store.Page{Limit: 10})
		if err != nil || len(list) != 1 || !strings.Contains(list[0].Error, "loopback") || strings.Contains(list[0].Error, "/hooks") {
			t.Fatalf("recorded %+v (%v); want the refusal, without the URL", list, err)
		}
		if n := len(recv.Events()) + len(recv.Refused()); n != 0 {
			t.Fatalf("the receiver on loopback got %d requests", n)
		}
	})
}

// The endpoints API, through Stripe's client where it has the call.
func TestWebhookEndpointsAPI(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.StartWith(t, dbURL, func(cfg *handlers.Config) { cfg.WebhookAllowPrivate = true })
		sc, vt := stripeClient(t, srv, srv.Keys.Test)
		api := newAPIClient(t, srv, srv.Keys.Test)
		ctx := context.Background()
		we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
			URL:           stripe.String("https://127.0.0.1:9/hooks"),
			EnabledEvents: stripe.StringSlice([]string{"checkout.session.completed", "checkout.session.expired"}),
			APIVersion:    stripe.String("2025-01-27.acacia"), Metadata: map[string]string{"team": "orders"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if we.APIVersion != "2025-01-27.acacia" || we.Metadata["team"] != "orders" || len(we.EnabledEvents) != 2 {
			t.Fatalf("created %+v", we)
		}
		got, err := sc.V1WebhookEndpoints.Retrieve(ctx, we.ID, nil)
		if err != nil || got.Secret != "" || got.URL != we.URL {
			t.Fatalf("retrieved %+v (%v): the secret is shown only at creation", got, err)
		}
		up, err := sc.V1WebhookEndpoints.Update(ctx, we.ID, &stripe.WebhookEndpointUpdateParams{
			Disabled: stripe.Bool(true), Description: stripe.String("paused")})
		if err != nil || up.Status != "disabled" || up.Description != "paused" {
			t.Fatalf("updated %+v (%v)", up, err)
		}
		if raw := api.mustOK("GET", "/v1/webhook_endpoints/"+we.ID, ""); raw["disabled_reason"] != "Disabled through the API." {
			t.Fatalf("disabled_reason = %v", raw["disabled_reason"])
		}
		var listed []string
		for e, err := range sc.V1WebhookEndpoints.List(ctx, &stripe.WebhookEndpointListParams{}).All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, e.ID)
		}
		if !slices.Equal(listed, []string{we.ID}) {
			t.Fatalf("listed %v", listed)
		}

		rolled := api.mustOK("POST", "/v1/webhook_endpoints/"+we.ID+"/roll_secret", "expires_in=3600")
		if s, _ := rolled["secret"].(string); !strings.HasPrefix(s, "whsec_") || s == we.Secret || rolled["previous_secret_expires_at"] == nil {
			t.Fatalf("rolled: %v", rolled)
		}

		// Another merchant's key, or the live key, sees no such endpoint.
		_, otherKeys := handlertest.Merchant(t, srv.Store)
		for _, key := range []string{otherKeys.Test, srv.Keys.Live} {
			for _, req := range [][2]string{{"GET", ""}, {"POST", "description=x"}, {"DELETE", ""}} {
				if r := api.with(key).do(req[0], "/v1/webhook_endpoints/"+we.ID, req[1]); r.Status != 404 {
					t.Errorf("%s with another key: %d", req[0], r.Status)
				}
			}
		}
		for _, tc := range []struct{ body, param string }{
			{"url=https://127.0.0.1/x&enabled_events[]=charge.succeeded", "enabled_events[0]"},
			{"url=https://127.0.0.1/x", "enabled_events"},
			{"url=https://127.0.0.1/x&enabled_events[]=*&connect=true", "connect"},
			{"url=https://127.0.0.1/x&enabled_events[]=*&colour=red", "colour"},
		} {
			if r := api.do("POST", "/v1/webhook_endpoints", tc.body); r.Status != 400 || r.err()["param"] != tc.param {
				t.Errorf("%s: %d %s, want 400 naming %s", tc.body, r.Status, r.Raw, tc.param)
			}
		}
		if r := api.do("POST", "/v1/webhook_endpoints", "url=https://127.0.0.1/x&enabled_events[]=*", "Stripe-Version", "yesterday"); r.Status != 400 || r.err()["param"] != "Stripe-Version" {
			t.Errorf("a malformed Stripe-Version: %d %s", r.Status, r.Raw)
		}

		del, err := sc.V1WebhookEndpoints.Delete(ctx, we.ID, nil)
		if err != nil || !del.Deleted {
			t.Fatalf("deleted %+v (%v)", del, err)
		}
		if _, err := sc.V1WebhookEndpoints.Retrieve(ctx, we.ID, nil); err == nil {
			t.Fatal("retrieved a deleted endpoint")
		}
		if vt.checked.Load() == 0 {
			t.Fatal("no answer was checked against the document")
		}
	})
}

// While a rolled secret overlaps, each delivery carries two v1 signatures:
// the receiver's old secret and its new one both verify it.
func TestWebhookSecretRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(cfg *handlers.Config) { cfg.WebhookAllowPrivate = true })
	recv := handlertest.StartReceiver(t)
	handlertest.StartWorker(t, srv.Store, nil, recv.Roots, nil)
	api := newAPIClient(t, srv, srv.Keys.Test)
	created := api.mustOK("POST", "/v1/webhook_endpoints", url.Values{"url": {recv.URL}, "enabled_events[]": {"*"}}.Encode(),
		"Stripe-Version", stripe.APIVersion)
	old := created["secret"].(string)
	rolled := api.mustOK("POST", "/v1/webhook_endpoints/"+created["id"].(string)+"/roll_secret", "")
	fresh := rolled["secret"].(string)
	recv.SetSecret(fresh)

	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionCancel})
	got := recv.WaitFor(t, 5*time.Second, "the delivery", func(r []handlertest.Received) bool { return len(r) == 1 })
	sig := got[0].Signature
	if strings.Count(sig, "v1=") != 2 {
		t.Fatalf("Stripe-Signature %q: want a v1 for each secret", sig)
	}
	// The old secret verifies the very same delivery.
	if err := stripewebhook.ValidatePayload(got[0].Payload, sig, old); err != nil {
		t.Fatalf("the old secret does not verify: %v", err)
	}
	if err := stripewebhook.ValidatePayload(got[0].Payload, sig, "whsec_neither"); err == nil {
		t.Fatal("a third secret verified it")
	}
	if got[0].Event.Type != "checkout.session.canceled" || got[0].Event.Request.ID != "" {
		t.Fatalf("delivered %+v", got[0].Event)
	}
}

// Stripe's Node library verifies the same deliveries, unchanged, with the
// old secret and with the new one while a roll overlaps
// (testdata/stripe-node; `npm ci` there, which make test does).
func TestWebhooksVerifyWithStripeNode(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("../testdata/stripe-node")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "stripe", "package.json"))
	}
	if err != nil {
		msg := "Stripe's Node library is not installed (node, and `npm ci` in testdata/stripe-node): " + err.Error()
		if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(cfg *handlers.Config) { cfg.WebhookAllowPrivate = true })
	recv := handlertest.StartReceiver(t)
	handlertest.StartWorker(t, srv.Store, nil, recv.Roots, nil)
	api := newAPIClient(t, srv, srv.Keys.Test)
	created := api.mustOK("POST", "/v1/webhook_endpoints", url.Values{"url": {recv.URL}, "enabled_events[]": {"*"}}.Encode(),
		"Stripe-Version", stripe.APIVersion)
	rolled := api.mustOK("POST", "/v1/webhook_endpoints/"+created["id"].(string)+"/roll_secret", "expires_in=600")
	recv.SetSecret(rolled["secret"].(string))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	handlertest.TransitionTo(t, srv, sess.ID, store.Transition{Action: store.ActionProcess})
	got := recv.WaitFor(t, 5*time.Second, "the delivery", func(r []handlertest.Received) bool { return len(r) == 1 })

	payload := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(payload, got[0].Payload, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{created["secret"].(string), rolled["secret"].(string), "whsec_neither"} {
		cmd := exec.Command(node, filepath.Join(dir, "verify.cjs"), payload, got[0].Signature, secret)
		out, err := cmd.Output()
		if secret == "whsec_neither" {
			if err == nil {
				t.Fatalf("stripe-node verified a delivery with a secret that did not sign it: %s", out)
			}
			continue
		}
		var read struct{ ID, Type, Object string }
		if err != nil || json.Unmarshal(out, &read) != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				out = append(out, ee.Stderr...)
			}
			t.Fatalf("stripe-node: %v\n%s", err, out)
		}
		if read.ID != got[0].Event.ID || read.Type != "checkout.session.completed" || read.Object != sess.ID {
			t.Fatalf("stripe-node read %+v", read)
		}
	}
}
