package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestEventSignatureTolerance(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		now := time.Now().Unix()
		in.Frozen.Store(now) // the tolerance is counted in whole seconds of paypage's clock
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		n := 0
		// Declines may repeat while the session is open: each accepted case
		// applies one more.
		body := func() []byte {
			n++
			b, _ := json.Marshal(map[string]any{"id": "evt_sig_" + strconv.Itoa(n), "type": "payment.failed",
				"session": sess.ID, "failure_reason": "card_declined"})
			return b
		}
		for _, tc := range []struct {
			name   string
			send   func() (int, map[string]any)
			accept bool
		}{
			{"signed now", func() (int, map[string]any) { return in.postSigned(t, m.WebhookSecret, now, body()) }, true},
			{"signed 299 s ago", func() (int, map[string]any) { return in.postSigned(t, m.WebhookSecret, now-299, body()) }, true},
			{"signed 299 s ahead", func() (int, map[string]any) { return in.postSigned(t, m.WebhookSecret, now+299, body()) }, true},
			{"signed 301 s ago", func() (int, map[string]any) { return in.postSigned(t, m.WebhookSecret, now-301, body()) }, false},
			{"signed 301 s ahead", func() (int, map[string]any) { return in.postSigned(t, m.WebhookSecret, now+301, body()) }, false},
			{"one byte of the body changed", func() (int, map[string]any) {
				b := body()
				req := signedRequest(in.URL, m.WebhookSecret, now, b)
				b[len(b)-3] ^= 1
				req.Body = nopBody(b)
				return in.do(t, req)
			}, false},
			{"one byte of the signature changed", func() (int, map[string]any) {
				b := body()
				req := signedRequest(in.URL, m.WebhookSecret, now, b)
				h := req.Header.Get("Paypage-Signature")
				flipped := "0"
				if h[len(h)-1] == '0' {
					flipped = "1"
				}
				req.Header.Set("Paypage-Signature", h[:len(h)-1]+flipped)
				return in.do(t, req)
			}, false},
			{"another merchant's secret", func() (int, map[string]any) {
				return in.postSigned(t, "whsec_someoneelse", now, body())
			}, false},
			{"old and new secrets while rotating", func() (int, map[string]any) {
				b := body()
				return in.postSigned(t, m.WebhookSecret, now, b, "v1="+sign("whsec_retired", now, b))
			}, true},
			{"no signature at all", func() (int, map[string]any) {
				req := signedRequest(in.URL, m.WebhookSecret, now, body())
				req.Header.Del("Paypage-Signature")
				return in.do(t, req)
			}, false},
			{"no timestamp", func() (int, map[string]any) {
				b := body()
				req := signedRequest(in.URL, m.WebhookSecret, now, b)
				req.Header.Set("Paypage-Signature", "v1="+sign(m.WebhookSecret, now, b))
				return in.do(t, req)
			}, false},
		} {
			before := countEvents(t, in.Store, sess.ID)
			code, resp := tc.send()
			after := countEvents(t, in.Store, sess.ID)
			switch {
			case tc.accept && (code != 200 || after != before+1):
				t.Errorf("%s: %d %v (events %d → %d), want it applied", tc.name, code, resp, before, after)
			case !tc.accept && (code != 401 || after != before):
				t.Errorf("%s: %d %v (events %d → %d), want 401 and no change", tc.name, code, resp, before, after)
			case !tc.accept && errorOf(resp)["message"] == "":
				t.Errorf("%s: refused without a message: %v", tc.name, resp)
			}
		}
	})
}

func nopBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func signedRequest(base, secret string, ts int64, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/payment_events", nopBody(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Paypage-Signature", "t="+strconv.FormatInt(ts, 10)+",v1="+sign(secret, ts, body))
	return req
}

func countEvents(t *testing.T, st *store.Store, id string) int {
	t.Helper()
	evs, err := st.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func errorOf(resp map[string]any) map[string]any {
	e, _ := resp["error"].(map[string]any)
	return e
}

func sessionOf(t *testing.T, resp map[string]any) map[string]any {
	t.Helper()
	s, ok := resp["session"].(map[string]any)
	if !ok {
		t.Fatalf("no session in %v", resp)
	}
	return s
}

func TestEventsAreIdempotentAndRefusedOutOfOrder(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, keys := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		ev := func(id, typ string, extra map[string]any) map[string]any {
			b := map[string]any{"id": id, "type": typ, "session": sess.ID}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}
		for _, step := range []struct {
			name      string
			body      map[string]any
			code      int
			errCode   string
			status    string
			payment   string
			duplicate bool
			applied   bool
		}{
			{"processing", ev("evt_1", "payment.processing", map[string]any{"provider": "acquirer", "payment_intent": "pi_1",
				"next_action": map[string]any{"type": "three_d_secure", "redirect_url": "https://acs.bank.example/3ds"}}),
				200, "", "processing", "pending", false, true},
			{"the same event again", ev("evt_1", "payment.processing", nil), 200, "", "processing", "pending", true, false},
			{"succeeded", ev("evt_2", "payment.succeeded", map[string]any{"payment_method": "card"}), 200, "", "complete", "paid", false, true},
			{"a late processing event", ev("evt_3", "payment.processing", nil), 400, "checkout_session_unexpected_state", "", "", false, false},
			{"a failure after success", ev("evt_4", "payment.failed", nil), 400, "checkout_session_unexpected_state", "", "", false, false},
			{"a partial refund", ev("evt_5", "payment.refunded", map[string]any{"amount": 1000, "refund_reason": "requested_by_customer"}), 200, "", "complete", "partially_refunded", false, true},
			{"a refund above what is left", ev("evt_6", "payment.refunded", map[string]any{"amount": 1501}), 400, "parameter_invalid", "", "", false, false},
			{"the success event again, after a refund", ev("evt_2", "payment.succeeded", nil), 200, "", "complete", "partially_refunded", true, false},
			{"the rest refunded", ev("evt_7", "payment.refunded", map[string]any{"amount": 1500}), 200, "", "complete", "refunded", false, true},
			{"a cancel after all that", ev("evt_8", "payment.canceled", nil), 400, "checkout_session_unexpected_state", "", "", false, false},
		} {
			before, _ := in.Store.Session(context.Background(), sess.ID)
			code, resp := in.postEvent(t, keys.Test, step.body)
			after, _ := in.Store.Session(context.Background(), sess.ID)
			if code != step.code {
				t.Fatalf("%s: %d %v, want %d", step.name, code, resp, step.code)
			}
			if step.code != 200 {
				if e := errorOf(resp); e["code"] != step.errCode || e["message"] == "" {
					t.Fatalf("%s: error %v, want code %s and a message", step.name, e, step.errCode)
				}
				if after.Version != before.Version {
					t.Fatalf("%s: refused, yet the version moved %d → %d", step.name, before.Version, after.Version)
				}
				continue
			}
			s := sessionOf(t, resp)
			if s["status"] != step.status || s["payment_status"] != step.payment || resp["duplicate"] != step.duplicate ||
				resp["id"] != step.body["id"] || resp["object"] != "payment_event" {
				t.Fatalf("%s: %v, want %s/%s duplicate=%v", step.name, resp, step.status, step.payment, step.duplicate)
			}
			if moved := after.Version != before.Version; moved != step.applied {
				t.Fatalf("%s: version %d → %d, applied = %v", step.name, before.Version, after.Version, step.applied)
			}
		}
		final, _ := in.Store.Session(context.Background(), sess.ID)
		if final.PaymentIntent != "pi_1" || final.Provider != "acquirer" || final.PaymentMethod != "card" || final.AmountRefunded != 2500 {
			t.Fatalf("stored %q %q %q refunded %d", final.PaymentIntent, final.Provider, final.PaymentMethod, final.AmountRefunded)
		}
		if len(final.Refunds) != 2 || final.Refunds[0].Reason != "requested_by_customer" || final.Refunds[0].Status != store.RefundSucceeded {
			t.Fatalf("refunds %+v: want the first with its reason, succeeded", final.Refunds)
		}
		evs, _ := in.Store.Events(context.Background(), sess.ID)
		for _, e := range evs {
			if e.Source != "payment_event" || e.ExternalID == nil {
				t.Fatalf("event row %+v: not recorded as a payment event", e)
			}
		}
		if len(evs) != 4 {
			t.Fatalf("%d event rows, want 4 (one per applied event)", len(evs))
		}
	})
}

func TestEventsNameTheBadParameterAndChangeNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, keys := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		ok := map[string]any{"id": "evt_ok", "type": "payment.processing", "session": sess.ID}
		with := func(k string, v any) map[string]any {
			b := map[string]any{}
			for k, v := range ok {
				b[k] = v
			}
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"no id", with("id", nil), "id"},
			{"id without evt_", with("id", "abc"), "id"},
			{"id too long", with("id", "evt_"+strings.Repeat("x", 260)), "id"},
			{"unknown type", with("type", "payment.exploded"), "type"},
			{"no session", with("session", nil), "session"},
			{"not a session id", with("session", "pi_123"), "session"},
			{"provider with a newline", with("provider", "acq\nuirer"), "provider"},
			{"payment_intent too long", with("payment_intent", strings.Repeat("p", 256)), "payment_intent"},
			{"amount on a processing event", with("amount", 100), "amount"},
			{"failure reason on a processing event", with("failure_reason", "card_declined"), "failure_reason"},
			{"next_action over http", with("next_action", map[string]any{"type": "redirect_to_url", "redirect_url": "http://acs.example/3ds"}), "next_action[redirect_url]"},
			{"next_action of an unknown type", with("next_action", map[string]any{"type": "teleport", "redirect_url": "https://acs.example/"}), "next_action[type]"},
			{"next_action origin with a path", with("next_action", map[string]any{"type": "three_d_secure", "redirect_url": "https://acs.example/",
				"allowed_origins": []string{"https://acs.example/path"}}), "next_action[allowed_origins][0]"},
			{"unknown field", with("colour", "blue"), "colour"},
		} {
			code, resp := in.postEvent(t, keys.Test, tc.body)
			if e := errorOf(resp); code != 400 || e["param"] != tc.param || e["message"] == "" {
				t.Errorf("%s: %d %v, want 400 naming %s", tc.name, code, resp, tc.param)
			}
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"refund without amount", map[string]any{"id": "evt_r", "type": "payment.refunded", "session": sess.ID}, "amount"},
			{"failure message too long", map[string]any{"id": "evt_f", "type": "payment.failed", "session": sess.ID, "failure_message": strings.Repeat("m", 501)}, "failure_message"},
			{"failure reason that is not a code", map[string]any{"id": "evt_f", "type": "payment.failed", "session": sess.ID, "failure_reason": "Card Declined!"}, "failure_reason"},
		} {
			code, resp := in.postEvent(t, keys.Test, tc.body)
			if e := errorOf(resp); code != 400 || e["param"] != tc.param {
				t.Errorf("%s: %d %v, want 400 naming %s", tc.name, code, resp, tc.param)
			}
		}
		if got := countEvents(t, in.Store, sess.ID); got != 0 {
			t.Fatalf("%d events recorded from refused requests", got)
		}
	})
}

func TestEventsForAnotherMerchantsSessionAreNotFound(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		owner, ownerKeys := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, owner, nil)
		other, otherKeys := handlertest.Merchant(t, in.Store)

		unknownCode, unknown := in.postEvent(t, otherKeys.Test, map[string]any{"id": "evt_x", "type": "payment.succeeded", "session": "cs_test_doesnotexist"})
		code, resp := in.postEvent(t, otherKeys.Test, map[string]any{"id": "evt_x", "type": "payment.succeeded", "session": sess.ID})
		if code != 404 || unknownCode != 404 {
			t.Fatalf("another merchant's session: %d %v; unknown: %d", code, resp, unknownCode)
		}
		// Identical but for the id itself and the request id.
		e, u := errorOf(resp), errorOf(unknown)
		if e["type"] != u["type"] || e["code"] != u["code"] || e["param"] != u["param"] ||
			strings.ReplaceAll(e["message"].(string), sess.ID, "X") != strings.ReplaceAll(u["message"].(string), "cs_test_doesnotexist", "X") {
			t.Fatalf("answers differ: %v vs %v", e, u)
		}
		// The owner's live key does not see test sessions either.
		if code, resp := in.postEvent(t, ownerKeys.Live, map[string]any{"id": "evt_x", "type": "payment.succeeded", "session": sess.ID}); code != 404 {
			t.Fatalf("a test session with the live key: %d %v", code, resp)
		}
		// A signed event for a session the signer does not own is refused
		// like a bad signature: nothing tells whether the session exists.
		body, _ := json.Marshal(map[string]any{"id": "evt_y", "type": "payment.succeeded", "session": sess.ID})
		if code, resp := in.postSigned(t, other.WebhookSecret, time.Now().Unix(), body); code != 401 {
			t.Fatalf("signed with another merchant's secret: %d %v", code, resp)
		}
		body, _ = json.Marshal(map[string]any{"id": "evt_y", "type": "payment.succeeded", "session": "cs_test_doesnotexist"})
		if code, resp := in.postSigned(t, other.WebhookSecret, time.Now().Unix(), body); code != 401 {
			t.Fatalf("signed for an unknown session: %d %v", code, resp)
		}
		if got := countEvents(t, in.Store, sess.ID); got != 0 {
			t.Fatalf("%d events applied", got)
		}
	})
}
