package handlers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// faultServer is paypage as cmd runs it (a hub listening on PostgreSQL),
// with a short request deadline and its log kept.
type faultServer struct {
	URL      string
	Store    *store.Store
	Merchant *store.Merchant
	Keys     store.Keys
	Log      *lineLog
	Timeout  time.Duration
}

func startFaultServer(t *testing.T, dbURL string, timeout time.Duration) *faultServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	m := &store.Merchant{Name: "Fault Shop"}
	keys, err := st.CreateMerchant(ctx, m)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	logs := &lineLog{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	hub := store.NewHub(st, log)
	if err := hub.Listen(ctx); err != nil {
		t.Fatalf("hub: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	app := handlers.New(st, handlers.Config{BaseURL: base, Logger: log, Hub: hub, Heartbeat: time.Second,
		RequestTimeout: timeout, APIRate: 1e6, APIBurst: 1e6})
	go app.Listener(ln)
	t.Cleanup(func() {
		app.ShutdownWithTimeout(5 * time.Second)
		hub.Close()
		st.Close()
	})
	return &faultServer{URL: base, Store: st, Merchant: m, Keys: keys, Log: logs, Timeout: timeout}
}

// answer is what one request of the load got.
type answer struct {
	kind       string
	start      time.Time
	took       time.Duration
	status     int
	retryAfter string
	body       string
	err        error
}

// load sends requests of every kind from several clients until stop is
// closed, and returns every answer.
func (s *faultServer) load(t *testing.T, sessionID string, stop <-chan struct{}) <-chan []answer {
	// A hang shows as a long answer, not a stuck test; no keep-alive, so
	// that the client never resends a request by itself (Go's transport
	// retries one with an Idempotency-Key on a reused connection).
	client := &http.Client{Timeout: s.Timeout + 10*time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	kinds := []struct {
		name, method, path, body string
	}{
		{"page", "GET", "/pay/" + sessionID, ""},
		{"return page", "GET", "/pay/" + sessionID + "/pending", ""},
		{"status", "GET", "/pay/" + sessionID + "/status", ""},
		{"api read", "GET", "/v1/checkout/sessions/" + sessionID, ""},
		{"api list", "GET", "/v1/checkout/sessions?limit=3", ""},
		{"api create", "POST", "/v1/checkout/sessions", "line_items[0][quantity]=1&line_items[0][price_data][currency]=eur" +
			"&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][product_data][name]=Tea"},
		{"readyz", "GET", "/readyz", ""},
	}
	out := make(chan []answer, 1)
	started := time.Now() // keys of one load differ from another's
	var (
		keys atomic.Int64
		mu   sync.Mutex
		all  []answer
		wg   sync.WaitGroup
	)
	// A client for each kind, so that every kind meets every fault.
	for _, k := range kinds {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(k.method, s.URL+k.path, strings.NewReader(k.body))
				if strings.HasPrefix(k.path, "/v1/") {
					req.SetBasicAuth(s.Keys.Test, "")
				}
				if k.body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d-%d", started.UnixNano(), keys.Add(1)))
				}
				a := answer{kind: k.name, start: time.Now()}
				overstay := time.AfterFunc(s.Timeout+time.Second, func() { dumpOnce(t, k.name) })
				resp, err := client.Do(req)
				overstay.Stop()
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					a.status, a.retryAfter, a.body = resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
				}
				a.took, a.err = time.Since(a.start), err
				mu.Lock()
				all = append(all, a)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // a steady load, not a flood
			}
		})
	}
	go func() {
		wg.Wait()
		out <- all
	}()
	return out
}

var dumped sync.Once

// dumpOnce keeps the stacks of the goroutines in paypage's code and the
// database driver the first time a request overstays its deadline + 1 s,
// while it is still under way: where it waits. They are logged when the
// test ends, after what failed (CI shows the head of a failure's output).
func dumpOnce(t *testing.T, kind string) {
	dumped.Do(func() {
		buf := make([]byte, 1<<22)
		var ours []string
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "database/sql") || strings.Contains(g, "lib/pq") ||
				strings.Contains(g, "paypage/store.") || strings.Contains(g, "paypage/handlers.") && !strings.Contains(g, "testing.tRunner") {
				ours = append(ours, g)
			}
		}
		t.Cleanup(func() {
			t.Logf("%s overstayed its deadline + 1 s; goroutines in paypage and the driver then:\n%s", kind, strings.Join(ours, "\n\n"))
		})
	})
}

// checkAnswers holds every answer to the fault contract: within its deadline
// plus a second, never a 500, and every 503 honest — Retry-After, and a
// page or a Stripe envelope by route, never an empty body.
func (s *faultServer) checkAnswers(t *testing.T, phase string, answers []answer) (unavailable map[string]int) {
	t.Helper()
	unavailable = map[string]int{}
	var slowest answer
	for _, a := range answers {
		if a.took > slowest.took {
			slowest = a
		}
		limit := s.Timeout + time.Second
		switch {
		case a.err != nil:
			t.Errorf("%s: %s: %v after %v", phase, a.kind, a.err, a.took)
		case a.took > limit:
			t.Errorf("%s: %s answered %d after %v, over its deadline + 1 s (%v)", phase, a.kind, a.status, a.took, limit)
		case a.status == 503:
			unavailable[a.kind]++
			if a.retryAfter == "" {
				t.Errorf("%s: %s: 503 without Retry-After", phase, a.kind)
			}
			switch a.kind {
			case "page", "return page":
				if !strings.Contains(a.body, `data-http-status="503"`) {
					t.Errorf("%s: %s: 503 page without its content: %.200q", phase, a.kind, a.body)
				}
			case "readyz":
			default:
				var env struct {
					Error struct {
						Type      string `json:"type"`
						RequestID string `json:"request_id"`
					}
				}
				if json.Unmarshal([]byte(a.body), &env) != nil || env.Error.Type != "api_error" || env.Error.RequestID == "" {
					t.Errorf("%s: %s: 503 body is not the error envelope: %.200q", phase, a.kind, a.body)
				}
			}
		case a.status != 200:
			t.Errorf("%s: %s: %d %.200q", phase, a.kind, a.status, a.body)
		}
	}
	t.Logf("%s: %d requests, %v answered 503, the slowest (%s) took %v", phase, len(answers), unavailable, slowest.kind, slowest.took)
	return unavailable
}

// ready polls /readyz until it answers want, and returns how long it took.
func (s *faultServer) ready(t *testing.T, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return time.Since(start)
			}
		}
		if time.Since(start) > limit {
			t.Fatalf("/readyz did not answer %d within %v", want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answering waits until the database answers a connection of its own, and
// returns when it first did: the moment it has recovered. (A thawed server
// first works through what queued up while it was frozen.)
func answering(t *testing.T, url string) time.Time {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var one int
		if db.QueryRow("SELECT 1").Scan(&one) == nil {
			return time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the database did not answer within 30 s of its recovery")
	return time.Time{}
}

// A frozen PostgreSQL (SIGSTOP: connections stay open, nothing is ever
// answered) and a stopped one (pg_ctl stop -m immediate), each under load:
// every request answers within its deadline + 1 s, pages and API with 503 +
// Retry-After, /readyz goes red and green again, live updates resume within
// 2 s of recovery, and each outage is logged once, with a count.
func TestPostgresFrozenAndStoppedUnderLoad(t *testing.T) {
	cl := storetest.NewCluster(t)
	const timeout = 2 * time.Second
	srv := startFaultServer(t, cl.URL(), timeout)
	sess, err := srv.Store.CreateSession(context.Background(), srv.Merchant, false, &store.SessionParams{Currency: "eur",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: ptr(int64(100)),
			ProductData: &store.ProductData{Name: "Tea"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	stream := openStream(t, srv.URL+"/pay/"+sess.ID+"/events", "")
	if ev, ok := stream.next(5 * time.Second); !ok {
		t.Fatal("no first event")
	} else {
		wantState(t, ev, 1, "open")
	}
	version := int64(1)

	// liveAfterRecovery makes a change as soon as the database takes one —
	// the pool must recover by itself, within 5 s — and requires the open
	// stream to carry it within 2 s: the hub's LISTEN connection must be
	// back by then, or the notification is lost until it is.
	liveAfterRecovery := func(phase string, recovered time.Time) {
		t.Helper()
		actions := []store.Action{store.ActionProcess, store.ActionFail}
		action := actions[version%2]
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := srv.Store.Transition(ctx, sess.ID, store.Transition{Action: action, Source: "test"})
			cancel()
			if err == nil {
				break
			}
			if time.Since(recovered) > 5*time.Second {
				t.Fatalf("%s: the store still fails 5 s after the database recovered: %v", phase, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		committed := time.Now()
		version++
		ev, ok := stream.next(3 * time.Second)
		if !ok {
			t.Fatalf("%s: no live update after recovery", phase)
		}
		wantState(t, ev, version, map[int64]string{0: "open", 1: "processing"}[version%2])
		if took := ev.At.Sub(committed); took > 2*time.Second {
			t.Errorf("%s: the live update came %v after the change, want within 2 s", phase, took)
		}
		t.Logf("%s: first change committed %v after the database recovered, on the open stream %v later",
			phase, committed.Sub(recovered), ev.At.Sub(committed))
	}

	type window struct{ from, to time.Time }
	var faults []window
	for _, phase := range []struct {
		name            string
		fault, recovery func()
	}{
		{"frozen", cl.Freeze, cl.Thaw},
		{"stopped", cl.Stop, cl.Start},
	} {
		srv.ready(t, 200, 10*time.Second)
		loaded := time.Now()
		stop := make(chan struct{})
		answers := srv.load(t, sess.ID, stop)
		time.Sleep(300 * time.Millisecond) // the load runs against a healthy database first
		phase.fault()
		red := srv.ready(t, 503, 5*time.Second)
		time.Sleep(2 * timeout) // the outage: every kind of request meets it, some more than once
		phase.recovery()
		recovered := answering(t, cl.URL())
		liveAfterRecovery(phase.name, recovered)
		srv.ready(t, 200, 10*time.Second)
		green := time.Since(recovered)
		faults = append(faults, window{loaded, time.Now()})
		close(stop)
		unavailable := srv.checkAnswers(t, phase.name, <-answers)
		for _, kind := range []string{"page", "api read", "api create", "status"} {
			if unavailable[kind] == 0 {
				t.Errorf("%s: no %s request met the outage", phase.name, kind)
			}
		}
		t.Logf("%s: /readyz red %v after the fault, green %v after recovery", phase.name, red, green)
	}

	// Each outage was logged once when it began and once, with its count,
	// when it ended — not once per request; no request was logged as a
	// failure (a 500). (On a machine too busy to answer within the
	// deadline, a request may meet an outage of its own outside the
	// faults: it is logged the same way.)
	logs := srv.Log.String()
	began, ended := logTimes(t, logs, `msg="database unavailable`), logTimes(t, logs, `msg="database available again"`)
	if len(began) != len(ended) || !strings.Contains(logs, "failures=") {
		t.Errorf("%d outages began and %d ended:\n%s", len(began), len(ended), logs)
	}
	for i, w := range faults {
		n := 0
		for _, at := range began {
			if !at.Before(w.from) && !at.After(w.to) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("fault %d: %d 'database unavailable' lines, want 1:\n%s", i+1, n, logs)
		}
	}
	if n := strings.Count(logs, "request failed"); n != 0 {
		t.Errorf("%d requests logged as failed (500)", n)
	}
}

// logTimes returns the times of the log lines that contain marker.
func logTimes(t *testing.T, logs, marker string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, marker) {
			continue
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			t.Fatalf("log line without a time: %q", line)
		}
		out = append(out, at)
	}
	return out
}

// A full disk on SQLite: a write that finds no room answers 503 with
// Retry-After, /readyz is red while it lasts (reads still work: a ping alone
// would say green), nothing is half-written, and all is well again once
// there is room.
//
// The disk is filled with SQLite's max_page_count, set for every connection
// through the database URL: a page allocation past it fails with
// SQLITE_FULL, through the same path as a write refused by a full file
// system, and it needs no privileges (make test runs unprivileged, where no
// small file system can be mounted).
func TestSQLiteDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paypage.db")
	setup, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := setup.DB().Get(&pages, "PRAGMA page_count"); err != nil {
		t.Fatal(err)
	}
	setup.Close()
	srv := startFaultServer(t, fmt.Sprintf("sqlite:%s?_pragma=max_page_count(%d)", path, pages+40), 2*time.Second)
	items := ""
	for i := range 20 {
		items += fmt.Sprintf("&line_items[%d][quantity]=1&line_items[%d][price_data][currency]=eur&line_items[%d][price_data][unit_amount]=100"+
			"&line_items[%d][price_data][product_data][name]=A+product+with+a+long+enough+name+%d", i, i, i, i, i)
	}
	var created []string
	create := func(key string) (int, http.Header, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/checkout/sessions", strings.NewReader(items[1:]))
		req.SetBasicAuth(srv.Keys.Test, "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", key)
		status, h, body := rawStatus(t, req)
		if status == 200 {
			var o struct{ ID string }
			json.Unmarshal([]byte(body), &o)
			created = append(created, o.ID)
		}
		return status, h, body
	}
	for i := 0; ; i++ {
		status, h, body := create(fmt.Sprintf("order-%d", i))
		if status == 200 {
			if i > 500 {
				t.Fatal("the database never filled up")
			}
			continue
		}
		if status != 503 || h.Get("Retry-After") == "" || !strings.Contains(body, `"type":"api_error"`) {
			t.Fatalf("a write to a full disk: %d (Retry-After %q) %s, want 503 with Retry-After", status, h.Get("Retry-After"), body)
		}
		break
	}
	if len(created) == 0 {
		t.Fatal("no session fitted before the disk was full")
	}
	// Red while it lasts, though reads work.
	srv.ready(t, 503, 5*time.Second)
	page := getPage(t, srv.URL+"/pay/"+created[0])
	if page.resp.StatusCode != 200 {
		t.Fatalf("reading a page on a full disk: %d", page.resp.StatusCode)
	}
	if status, _ := getJSON(t, srv.URL+"/readyz"); status != 503 {
		t.Fatalf("/readyz while the disk is still full: %d", status)
	}

	// Nothing half-written: every session answered 200 is whole, no other
	// was stored, and no line item is left over.
	var sessions, lineItems int
	srv.Store.DB().Get(&sessions, "SELECT COUNT(*) FROM checkout_sessions")
	srv.Store.DB().Get(&lineItems, "SELECT COUNT(*) FROM line_items")
	if sessions != len(created) || lineItems != 20*len(created) {
		t.Fatalf("%d sessions and %d line items stored for %d sessions created of 20 items each", sessions, lineItems, len(created))
	}
	for _, id := range created {
		if s, err := srv.Store.Session(context.Background(), id); err != nil || len(s.LineItems) != 20 {
			t.Fatalf("session %s answered 200 but is not whole: %v", id, err)
		}
	}

	// Room again: ready, and the refused request may be sent again with
	// its key (a refused request is not remembered).
	refusedKey := fmt.Sprintf("order-%d", len(created))
	if _, err := srv.Store.DB().Exec("DELETE FROM checkout_sessions WHERE id <> ?", created[0]); err != nil {
		t.Fatal(err)
	}
	srv.ready(t, 200, 5*time.Second)
	if status, _, body := create(refusedKey); status != 200 {
		t.Fatalf("the refused request again, once there is room: %d %s", status, body)
	}
	logs := srv.Log.String()
	if strings.Count(logs, "database unavailable") != 1 || strings.Count(logs, "database available again") != 1 {
		t.Errorf("the full disk was not logged once as an outage and once as recovered:\n%s", logs)
	}
}

// getJSON fetches url and returns its status and decoded JSON object.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}
