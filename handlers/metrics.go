package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paypage/paypage/store"
)

// Metrics are paypage's Prometheus metrics. Every metric is declared in
// NewMetrics — the one place to add one — on a registry of its own, which
// cmd serves on --metrics-addr. A nil *Metrics observes nothing, so tests
// and tools that do not care pass none. Observing is cheap on the hot path:
// label values are resolved once (series are made on first use and cached
// in atomics), and nothing takes a lock or allocates per request.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.HistogramVec // method, route, code (status class)
	dbDurations   [4]prometheus.Observer   // by store.Op
	transitions   *prometheus.CounterVec   // action, source
	paymentEvents [numEventResults]prometheus.Counter
	authFailures  [numAuthKinds]prometheus.Counter
	rateLimited   [numLimits]prometheus.Counter
	sweeps        [2]prometheus.Counter // ok, error
	sweptSessions prometheus.Counter
	webhooks      *prometheus.HistogramVec // result
}

// NewMetrics declares every metric.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{reg}
	m := &Metrics{reg: reg}

	m.requests = f.histogramVec("paypage_http_request_duration_seconds",
		"HTTP requests by method, route pattern and status class (2xx…5xx), and how long they took to answer (for event streams: to start).",
		prometheus.DefBuckets, "method", "route", "code")
	dbOps := f.histogramVec("paypage_db_query_duration_seconds",
		"Database round trips by kind (query: until its first rows; begin: on SQLite, includes waiting for the write lock).",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, "op")
	for _, op := range store.Ops() {
		m.dbDurations[op] = dbOps.WithLabelValues(op.String())
	}
	m.transitions = f.counterVec("paypage_session_transitions_total",
		"Checkout session transitions committed, by action and by who asked (api, payment_event, test_panel, sweeper…).", "action", "source")
	events := f.counterVec("paypage_payment_events_total",
		"Payment events received at POST /v1/payment_events, by result: applied, duplicate (already applied) or refused (any error answer).", "result")
	for r, name := range eventResultNames {
		m.paymentEvents[r] = events.WithLabelValues(name)
	}
	auth := f.counterVec("paypage_auth_failures_total",
		"Failed authentications: unknown, expired or disabled API keys, and payment events with a bad signature.", "kind")
	for k, name := range authKindNames {
		m.authFailures[k] = auth.WithLabelValues(name)
	}
	limited := f.counterVec("paypage_rate_limited_total",
		"Requests refused with 429: over an API key's rate, from a client that failed authentication too often, or over a merchant's signed-event rate.", "limit")
	for l, name := range limitNames {
		m.rateLimited[l] = limited.WithLabelValues(name)
	}
	sweeps := f.counterVec("paypage_sweeper_runs_total", "Runs of the expiry sweeper, by result.", "result")
	m.sweeps = [2]prometheus.Counter{sweeps.WithLabelValues("ok"), sweeps.WithLabelValues("error")}
	m.sweptSessions = f.counter("paypage_sweeper_expired_sessions_total", "Sessions the sweeper marked expired.")
	m.webhooks = f.histogramVec("paypage_webhook_delivery_duration_seconds",
		"Webhook delivery attempts by result (succeeded: a 2xx; status: any other answer; timeout; refused: not a public address; error), and how long each took; its _count is the attempts.",
		[]float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10}, "result")
	return m
}

// WebhookAttempt records one webhook delivery attempt (webhook.Config's
// OnAttempt).
func (m *Metrics) WebhookAttempt(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(result).Observe(d.Seconds())
}

// ObserveStore adds the store's metrics: database round trips, the pool's
// connections, and transitions. Call it before serving.
func (m *Metrics) ObserveStore(st *store.Store) {
	st.ObserveQueries(func(op store.Op, d time.Duration) { m.dbDurations[op].Observe(d.Seconds()) })
	m.reg.MustRegister(collectors.NewDBStatsCollector(st.DB().DB, st.Engine()))
	prev := st.OnTransition
	st.OnTransition = func(action store.Action, source string) {
		if prev != nil {
			prev(action, source)
		}
		m.transitions.WithLabelValues(string(action), source).Inc()
	}
}

// ObserveHub adds the number of open live-update subscriptions, read when
// scraped.
func (m *Metrics) ObserveHub(hub *store.Hub) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "paypage_live_watchers", Help: "Live-update subscriptions open in this process (event streams of open pages).",
	}, func() float64 { return float64(hub.Watchers()) }))
}

// SweeperRun records one run of the expiry sweeper.
func (m *Metrics) SweeperRun(expired int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.sweeps[1].Inc()
		return
	}
	m.sweeps[0].Inc()
	m.sweptSessions.Add(float64(expired))
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// factory registers each metric as it is made.
type factory struct{ reg *prometheus.Registry }

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

// The fixed label values, as indexes so that counting is an array lookup.

type eventResult int

const (
	eventApplied eventResult = iota
	eventDuplicate
	eventRefused
	numEventResults
)

var eventResultNames = [numEventResults]string{"applied", "duplicate", "refused"}

type authKind int

const (
	authAPIKey authKind = iota
	authSignature
	numAuthKinds
)

var authKindNames = [numAuthKinds]string{"api_key", "signature"}

type limit int

const (
	limitAPIKey     limit = iota // PAYPAGE_API_RATE per key
	limitFailedAuth              // clients that failed authentication too often
	limitWebhook                 // a merchant's signed payment events
	numLimits
)

var limitNames = [numLimits]string{"api_key", "failed_auth", "webhook"}

func (m *Metrics) paymentEvent(r eventResult) {
	if m != nil {
		m.paymentEvents[r].Inc()
	}
}

func (m *Metrics) authFailure(k authKind) {
	if m != nil {
		m.authFailures[k].Inc()
	}
}

func (m *Metrics) limited(l limit) {
	if m != nil {
		m.rateLimited[l].Inc()
	}
}

// routeMetrics holds the request histogram's series of one route, one per
// status class, made on first use.
type routeMetrics struct {
	method, route string
	byClass       [6]atomic.Pointer[observer] // 1xx…5xx; 0: anything else
}

type observer struct{ prometheus.Observer }

type routeKey struct{ method, path string }

// routeTable maps every route of app to its series. It is built once the
// routes exist and only read afterwards, so looking a request up takes no
// lock. Middleware groups (app.Use, app.Group) refuse requests before any
// route: they are labelled by their prefix and "/*".
func (m *Metrics) routeTable(app *fiber.App) map[routeKey]*routeMetrics {
	if m == nil {
		return nil
	}
	real := map[routeKey]bool{}
	for _, r := range app.GetRoutes(true) {
		real[routeKey{r.Method, r.Path}] = true
	}
	table := map[routeKey]*routeMetrics{}
	for _, stack := range app.Stack() {
		for _, r := range stack {
			k := routeKey{r.Method, r.Path}
			label := r.Path
			if !real[k] {
				label = strings.TrimSuffix(r.Path, "/") + "/*"
			}
			table[k] = &routeMetrics{method: r.Method, route: label}
		}
	}
	return table
}

// observeRequest records a request once answered.
func (h *handler) observeRequest(c *fiber.Ctx, took time.Duration) {
	if h.metrics == nil {
		return
	}
	r := c.Route()
	rm := h.routes[routeKey{r.Method, r.Path}]
	if rm == nil {
		return // not a route of this app: nothing to label it by
	}
	class := c.Response().StatusCode() / 100
	if class < 1 || class > 5 {
		class = 0
	}
	o := rm.byClass[class].Load()
	if o == nil {
		code := "other"
		if class > 0 {
			code = strconv.Itoa(class) + "xx"
		}
		o = &observer{h.metrics.requests.WithLabelValues(rm.method, rm.route, code)}
		rm.byClass[class].Store(o)
	}
	o.Observe(took.Seconds())
}
