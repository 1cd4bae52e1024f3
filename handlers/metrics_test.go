package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// scrape reads the metrics endpoint at url as Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the metrics are not Prometheus's text format: %v", err)
	}
	return fams
}

// sample sums the samples of family name whose labels include want: a
// counter's or gauge's value, a histogram's count.
func sample(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
metrics:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue metrics
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

// A scrape after some traffic shows every kind of metric moving by exactly
// what the traffic did.
func TestMetricsMoveUnderLoad(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		m := &store.Merchant{Name: "Metered"}
		keys, err := st.CreateMerchant(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		hub := store.NewHub(st, log)
		if err := hub.Listen(ctx); err != nil {
			t.Fatal(err)
		}
		metrics := handlers.NewMetrics()
		metrics.ObserveStore(st)
		metrics.ObserveHub(hub)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		app := handlers.New(st, handlers.Config{BaseURL: base, Logger: log, Hub: hub, Metrics: metrics, APIRate: 1, APIBurst: 5})
		go app.Listener(ln)
		t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second); hub.Close() })
		scrapeURL := httptest.NewServer(metrics.Handler()).URL + "/metrics"

		unit := int64(500)
		sess, err := st.CreateSession(ctx, m, false, &store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{
			{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit, ProductData: &store.ProductData{Name: "Tea"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		before := scrape(t, scrapeURL)
		get := func(path, key string) int {
			req, _ := http.NewRequest("GET", base+path, nil)
			if key != "" {
				req.SetBasicAuth(key, "")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		for range 5 {
			if code := get("/pay/"+sess.ID, ""); code != 200 {
				t.Fatalf("page: %d", code)
			}
		}
		get("/pay/cs_test_missing", "")                     // 404
		get("/v1/checkout/sessions", "sk_test_"+"nonsense") // failed authentication
		statuses := map[int]int{}
		for range 6 {
			statuses[get("/v1/checkout/sessions", keys.Live)]++ // a burst of 5, then refused
		}
		if statuses[200] != 5 || statuses[429] != 1 {
			t.Fatalf("burst: %v", statuses)
		}
		event := func(id, secret string) int {
			body := []byte(`{"id":"` + id + `","type":"payment.processing","session":"` + sess.ID + `"}`)
			resp, err := http.DefaultClient.Do(signedRequest(base, secret, time.Now().Unix(), body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if a, d, r := event("evt_m1", m.WebhookSecret), event("evt_m1", m.WebhookSecret), event("evt_m2", "whsec_wrong"); a != 200 || d != 200 || r != 401 {
			t.Fatalf("events: applied %d, duplicate %d, forged %d", a, d, r)
		}
		metrics.SweeperRun(2, nil)
		stream := openStream(t, base+"/pay/"+sess.ID+"/events", "")
		if _, ok := stream.next(5 * time.Second); !ok {
			t.Fatal("no first event on the stream")
		}

		after := scrape(t, scrapeURL)
		moved := func(name string, labels ...string) float64 {
			return sample(after, name, labels...) - sample(before, name, labels...)
		}
		for _, tc := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"paypage_http_request_duration_seconds", []string{"method", "GET", "route", "/pay/:id", "code", "2xx"}, 5},
			{"paypage_http_request_duration_seconds", []string{"method", "GET", "route", "/pay/:id", "code", "4xx"}, 1},
			{"paypage_http_request_duration_seconds", []string{"route", "/v1/checkout/sessions", "code", "2xx"}, 5},
			{"paypage_http_request_duration_seconds", []string{"route", "/v1/*", "code", "4xx"}, 2}, // 401 and 429, refused before routing
			{"paypage_http_request_duration_seconds", []string{"method", "POST", "route", "/v1/payment_events"}, 3},
			{"paypage_auth_failures_total", []string{"kind", "api_key"}, 1},
			{"paypage_auth_failures_total", []string{"kind", "signature"}, 1},
			{"paypage_rate_limited_total", []string{"limit", "api_key"}, 1},
			{"paypage_payment_events_total", []string{"result", "applied"}, 1},
			{"paypage_payment_events_total", []string{"result", "duplicate"}, 1},
			{"paypage_payment_events_total", []string{"result", "refused"}, 1},
			{"paypage_session_transitions_total", []string{"action", "process", "source", "payment_event"}, 1},
			{"paypage_sweeper_runs_total", []string{"result", "ok"}, 1},
			{"paypage_sweeper_expired_sessions_total", nil, 2},
			{"paypage_live_watchers", nil, 1},
		} {
			if got := moved(tc.name, tc.labels...); got != tc.want {
				t.Errorf("%s%v moved by %v, want %v", tc.name, tc.labels, got, tc.want)
			}
		}
		if moved("paypage_db_query_duration_seconds", "op", "query") < 10 || moved("paypage_db_query_duration_seconds", "op", "commit") < 1 {
			t.Errorf("database round trips barely moved: query %v, commit %v",
				moved("paypage_db_query_duration_seconds", "op", "query"), moved("paypage_db_query_duration_seconds", "op", "commit"))
		}
		if sample(after, "go_sql_open_connections", "db_name", st.Engine()) < 1 {
			t.Error("the pool's open connections are not exported")
		}
	})
}
