package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// liveInstance is one paypage process (handlertest.Instance) whose API
// answers are checked against docs/openapi.json.
type liveInstance struct {
	*handlertest.Instance
	API *http.Client
}

// startLiveInstance serves paypage over dbURL as cmd does (a hub that
// listens on PostgreSQL), with the given stream heartbeat.
func startLiveInstance(t *testing.T, dbURL string, heartbeat time.Duration) *liveInstance {
	t.Helper()
	in := handlertest.StartInstance(t, dbURL, heartbeat)
	api := &http.Client{Transport: &validatingTransport{t: t, router: openAPIRouter(t, in.URL)}}
	return &liveInstance{Instance: in, API: api}
}

// sseEvent is one Server-Sent Event, or a comment (Comment set).
type sseEvent struct {
	ID, Event, Data, Retry, Comment string
	At                              time.Time
}

// state decodes a status event.
func (e sseEvent) state(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
		t.Fatalf("event data %q: %v", e.Data, err)
	}
	return m
}

// sseStream is a client of GET /pay/:id/events.
type sseStream struct {
	Resp   *http.Response
	Events chan sseEvent // closed when the server ends the stream
	cancel context.CancelFunc
}

// openStream connects to url with the given Last-Event-ID ("" for none).
func openStream(t *testing.T, url, lastEventID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	s := &sseStream{Resp: resp, Events: make(chan sseEvent, 100), cancel: cancel}
	t.Cleanup(s.Close)
	go func() {
		defer close(s.Events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					ev.At = time.Now()
					s.Events <- ev
				}
				ev = sseEvent{}
			case field == "":
				ev.Comment = value
			case field == "id":
				ev.ID = value
			case field == "event":
				ev.Event = value
			case field == "data":
				ev.Data = value
			case field == "retry":
				ev.Retry = value
			}
		}
	}()
	return s
}

// Close disconnects the client.
func (s *sseStream) Close() { s.cancel() }

// next returns the next status event within d, skipping comments and the
// retry hint; ok is false on timeout or end of stream.
func (s *sseStream) next(d time.Duration) (ev sseEvent, ok bool) {
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.Events:
			if !ok {
				return sseEvent{}, false
			}
			if ev.Event == "status" {
				return ev, true
			}
		case <-timeout:
			return sseEvent{}, false
		}
	}
}

// ended reports whether the server closes the stream within d, failing on
// any further status event.
func (s *sseStream) ended(t *testing.T, d time.Duration) bool {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.Events:
			if !ok {
				return true
			}
			if ev.Event == "status" {
				t.Fatalf("status event after the final one: %+v", ev)
			}
		case <-timeout:
			return false
		}
	}
}

// wantState fails unless ev is a status event of the given version and
// status.
func wantState(t *testing.T, ev sseEvent, version int64, status string) {
	t.Helper()
	m := ev.state(t)
	if ev.ID != strconv.FormatInt(version, 10) || m["version"] != float64(version) || m["status"] != status {
		t.Fatalf("event id=%s data=%s, want version %d status %s", ev.ID, ev.Data, version, status)
	}
}

// postEvent sends a payment event with the secret key.
func (in *liveInstance) postEvent(t *testing.T, key string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/v1/payment_events", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return in.do(t, req)
}

// postSigned sends body signed with secret at time ts, after any extra
// signatures ("v1=…").
func (in *liveInstance) postSigned(t *testing.T, secret string, ts int64, body []byte, extraSigs ...string) (int, map[string]any) {
	t.Helper()
	req := signedRequest(in.URL, secret, ts, body)
	sigs := append(extraSigs, "v1="+sign(secret, ts, body))
	req.Header.Set("Paypage-Signature", "t="+strconv.FormatInt(ts, 10)+","+strings.Join(sigs, ","))
	return in.do(t, req)
}

func sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// do sends an API request and decodes the JSON answer.
func (in *liveInstance) do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := in.API.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", req.Method, req.URL, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func TestLiveStatusIsSmallPublicJSONWithETag(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		url := in.URL + "/pay/" + sess.ID + "/status"

		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET status: %d %s", resp.StatusCode, raw)
		}
		want := map[string]any{"id": sess.ID, "status": "open", "payment_status": "unpaid",
			"version": float64(sess.Version), "expires_at": float64(sess.ExpiresAt)}
		if len(got) != len(want) {
			t.Fatalf("fields %v, want exactly %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		for _, secret := range []string{"shopper@example.com", "secret-order-42", "Mug"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("the public status shows %q", secret)
			}
		}
		etag := resp.Header.Get("ETag")
		if etag != `W/"v1-open"` || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
		}

		conditional := func(tag string) int {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("If-None-Match", tag)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := conditional(etag); got != http.StatusNotModified {
			t.Fatalf("If-None-Match of the current ETag: %d, want 304", got)
		}
		if _, err := in.Store.Transition(context.Background(), sess.ID, store.Transition{Action: store.ActionProcess, Source: "test"}); err != nil {
			t.Fatal(err)
		}
		if got := conditional(etag); got != http.StatusOK {
			t.Fatalf("If-None-Match of a stale ETag: %d, want 200", got)
		}

		resp, err = http.Get(in.URL + "/pay/cs_test_nosuchsession/status")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "json") ||
			!strings.Contains(string(raw), `"resource_missing"`) {
			t.Fatalf("unknown id: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
	})
}

func TestLiveSSEStreamsEachChangeAndEndsAfterTheFinalOne(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		s := openStream(t, in.URL+"/pay/"+sess.ID+"/events", "")
		if ct := s.Resp.Header.Get("Content-Type"); s.Resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("GET events: %d %s", s.Resp.StatusCode, ct)
		}
		first := <-s.Events
		if first.Retry != "2000" {
			t.Fatalf("first message %+v, want the retry hint", first)
		}
		ev, ok := s.next(time.Second)
		if !ok {
			t.Fatal("no initial status event")
		}
		wantState(t, ev, 1, "open")

		// Other requests meanwhile reuse the server's request contexts: the
		// stream must hold nothing of its own request's buffers.
		other := handlertest.MugSession(t, in.Store, m, nil)
		busy := func() {
			for range 5 {
				for _, u := range []string{"/healthz", "/pay/" + other.ID + "/status", "/pay/" + other.ID} {
					resp, err := http.Get(in.URL + u)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
		for _, step := range []struct {
			tr     store.Transition
			status string
		}{
			{store.Transition{Action: store.ActionProcess}, "processing"},
			{store.Transition{Action: store.ActionFail}, "open"},
			{store.Transition{Action: store.ActionSucceed}, "complete"},
		} {
			step.tr.Source = "test"
			busy()
			start := time.Now()
			after, err := in.Store.Transition(context.Background(), sess.ID, step.tr)
			if err != nil {
				t.Fatal(err)
			}
			ev, ok := s.next(time.Second)
			if !ok {
				t.Fatalf("%s: no event within 1 s", step.tr.Action)
			}
			wantState(t, ev, after.Version, step.status)
			if ev.state(t)["payment_status"] != after.PaymentStatus {
				t.Fatalf("payment_status %v, want %s", ev.state(t)["payment_status"], after.PaymentStatus)
			}
			t.Logf("%s reached the stream in %v", step.tr.Action, ev.At.Sub(start))
		}
		if !s.ended(t, 2*time.Second) {
			t.Fatal("the stream stayed open after the final status")
		}
		waitWatchers(t, in.Hub, 0)
	})
}

// waitWatchers waits until the hub has n subscriptions.
func waitWatchers(t *testing.T, hub *store.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Watchers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d watchers, want %d", hub.Watchers(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLiveSSEHonoursLastEventID(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, 100*time.Millisecond)
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		events := in.URL + "/pay/" + sess.ID + "/events"

		// A client that has version 1 gets nothing until version 2.
		s := openStream(t, events, "1")
		heartbeats := 0
		for heartbeats < 2 {
			ev, ok := <-s.Events
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Event == "status" {
				t.Fatalf("resent a version the client has: %+v", ev)
			}
			if ev.Comment != "" {
				heartbeats++
			}
		}
		after, err := in.Store.Transition(context.Background(), sess.ID, store.Transition{Action: store.ActionCancel, Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := s.next(time.Second)
		if !ok {
			t.Fatal("no event for the new version")
		}
		wantState(t, ev, after.Version, "canceled")

		// A version from the future is not believed: the state is sent.
		s = openStream(t, events, "999")
		if ev, ok := s.next(time.Second); !ok {
			t.Fatal("no event for a client claiming a future version")
		} else {
			wantState(t, ev, after.Version, "canceled")
		}

		// A client that has seen the final state is told to stop.
		resp, err := func() (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodGet, events, nil)
			req.Header.Set("Last-Event-ID", strconv.FormatInt(after.Version, 10))
			return http.DefaultClient.Do(req)
		}()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("final state already seen: %d, want 204", resp.StatusCode)
		}
		waitWatchers(t, in.Hub, 0)
	})
}

func TestLiveSSEFreesClientsThatLeft(t *testing.T) {
	in := startLiveInstance(t, storetest.SQLiteURL(t), 50*time.Millisecond)
	m, _ := handlertest.Merchant(t, in.Store)
	sess := handlertest.MugSession(t, in.Store, m, nil)
	var streams []*sseStream
	for range 5 {
		streams = append(streams, openStream(t, in.URL+"/pay/"+sess.ID+"/events", ""))
	}
	for _, s := range streams {
		if _, ok := s.next(time.Second); !ok {
			t.Fatal("no initial event")
		}
	}
	waitWatchers(t, in.Hub, 5)
	for _, s := range streams[:4] {
		s.Close()
	}
	// The heartbeat finds them gone: their subscriptions are released.
	waitWatchers(t, in.Hub, 1)
	// The one still there hears of the next change.
	if _, err := in.Store.Transition(context.Background(), sess.ID, store.Transition{Action: store.ActionProcess, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	if ev, ok := streams[4].next(time.Second); !ok {
		t.Fatal("the remaining client missed the change")
	} else {
		wantState(t, ev, 2, "processing")
	}
}

func TestLiveSSENoticesExpiryWithoutAnyEvent(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, nil)
		// The clock moves to one second before the session's expiry.
		in.Shift.Store(int64(time.Unix(sess.ExpiresAt, 0).Sub(time.Now()) - time.Second))
		s := openStream(t, in.URL+"/pay/"+sess.ID+"/events", "")
		if ev, ok := s.next(time.Second); !ok {
			t.Fatal("no initial event")
		} else {
			wantState(t, ev, 1, "open")
		}
		ev, ok := s.next(3 * time.Second)
		if !ok {
			t.Fatal("the stream did not notice the expiry")
		}
		wantState(t, ev, 1, "expired") // exact on read, before any sweeper
		if !s.ended(t, time.Second) {
			t.Fatal("the stream stayed open after expiry")
		}
	})
}

func TestLiveSSEEndsWhenTheServerShutsDown(t *testing.T) {
	in := startLiveInstance(t, storetest.SQLiteURL(t), time.Minute)
	m, _ := handlertest.Merchant(t, in.Store)
	sess := handlertest.MugSession(t, in.Store, m, nil)
	s := openStream(t, in.URL+"/pay/"+sess.ID+"/events", "")
	if _, ok := s.next(time.Second); !ok {
		t.Fatal("no initial event")
	}
	start := time.Now()
	if err := in.App.ShutdownWithTimeout(10 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown waited %v for an open stream", d)
	}
	if !s.ended(t, time.Second) {
		t.Fatal("the stream is still open after shutdown")
	}
}

func TestLiveTwoInstancesOnPostgres(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	a := startLiveInstance(t, dbURL, time.Second)
	b := startLiveInstance(t, dbURL, time.Second)
	m, keys := handlertest.Merchant(t, a.Store)
	sess := handlertest.MugSession(t, a.Store, m, nil)

	s := openStream(t, b.URL+"/pay/"+sess.ID+"/events", "")
	if ev, ok := s.next(time.Second); !ok {
		t.Fatal("no initial event from B")
	} else {
		wantState(t, ev, 1, "open")
	}

	// An event posted to A reaches B's client in under a second.
	start := time.Now()
	code, body := a.postEvent(t, keys.Test, map[string]any{"id": "evt_two_1", "type": "payment.processing", "session": sess.ID})
	if code != 200 {
		t.Fatalf("POST to A: %d %v", code, body)
	}
	ev, ok := s.next(time.Second)
	latency := time.Since(start)
	if !ok {
		t.Fatal("B's client did not hear of A's event within 1 s")
	}
	wantState(t, ev, 2, "processing")
	t.Logf("event posted to instance A reached an SSE client of instance B in %v", latency)
	if latency >= time.Second {
		t.Fatalf("latency %v, want under 1 s", latency)
	}

	// The LISTEN connections die (a failover, a cut); a change made right
	// then is notified to no one, yet B's client converges once B's
	// listener is back.
	var killed int
	if err := a.Store.DB().GetContext(context.Background(), &killed, `SELECT COUNT(pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d LISTEN connections, want 2 (one per instance)", killed)
	}
	code, body = a.postEvent(t, keys.Test, map[string]any{"id": "evt_two_2", "type": "payment.succeeded", "session": sess.ID})
	if code != 200 {
		t.Fatalf("POST to A: %d %v", code, body)
	}
	ev, ok = s.next(10 * time.Second)
	if !ok {
		t.Fatal("B's client never converged after the listener was killed")
	}
	wantState(t, ev, 3, "complete")
	if !s.ended(t, 2*time.Second) {
		t.Fatal("the stream stayed open after the final status")
	}

	// And live updates flow again, both ways.
	other := handlertest.MugSession(t, b.Store, m, nil)
	s = openStream(t, a.URL+"/pay/"+other.ID+"/events", "")
	if _, ok := s.next(time.Second); !ok {
		t.Fatal("no initial event from A")
	}
	body2, _ := json.Marshal(map[string]any{"id": "evt_two_3", "type": "payment.canceled", "session": other.ID})
	if code, resp := b.postSigned(t, m.WebhookSecret, time.Now().Unix(), body2); code != 200 {
		t.Fatalf("signed POST to B: %d %v", code, resp)
	}
	if ev, ok := s.next(time.Second); !ok {
		t.Fatal("A's client did not hear of B's event after the reconnection")
	} else {
		wantState(t, ev, 2, "canceled")
	}
}
