package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/paypage/paypage/store"
)

// Delivery limits.
const (
	// Timeout bounds one attempt, from connecting to the end of the
	// answer: anything slower is a failure, and is retried.
	Timeout = 10 * time.Second
	// maxResponseBody is as much of an answer as is read; the rest is
	// dropped with the connection. Only the status counts.
	maxResponseBody = 64 << 10
	// DefaultBatch is how many deliveries an instance attempts at once.
	DefaultBatch = 8
	// DefaultIdle is the longest the worker waits without a signal before
	// it looks for due deliveries (retries are timed exactly; this catches
	// work that no signal announced, such as another instance's lease that
	// ran out).
	DefaultIdle = 10 * time.Second
	userAgent   = "paypage-webhooks/1"
)

// Attempt results, as OnAttempt reports them (metrics label them).
const (
	ResultSucceeded = "succeeded" // a 2xx answer
	ResultStatus    = "status"    // any other answer, redirects included
	ResultTimeout   = "timeout"   // no complete answer within Timeout
	ResultRefused   = "refused"   // the address is not public (see CheckURL)
	ResultError     = "error"     // could not connect, TLS, a broken answer…
)

// Config is what the delivery worker needs.
type Config struct {
	Store   *store.Store
	Present Presenter
	// Wake signals that deliveries may be due: cmd gives a hub subscription
	// to store.AllSessions, which every committed change (and, on
	// PostgreSQL, every instance's) reaches. A closed channel is ignored.
	Wake <-chan struct{}
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1).
	AllowPrivate bool
	// RootCAs verifies endpoints' certificates (nil: the system's).
	RootCAs *x509.CertPool
	Logger  *slog.Logger
	Batch   int           // deliveries attempted at once (0: DefaultBatch)
	Idle    time.Duration // longest wait without a signal (0: DefaultIdle)
	Timeout time.Duration // of one attempt (0: Timeout)
	// OnAttempt, when set, is called after every attempt, once recorded,
	// with its result (one of the Result constants) and duration: the hook
	// for metrics of webhook deliveries by result.
	OnAttempt func(result string, d time.Duration)
}

// Worker delivers due events until stopped. Any number of instances may
// run one on the same database: each delivery is leased to one at a time.
type Worker struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	poke   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// Start starts a worker; Stop ends it.
func Start(cfg Config) *Worker {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = Timeout
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Worker{cfg: cfg, log: cfg.Logger, client: newClient(cfg), poke: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// newClient is the HTTP client of deliveries: no proxy (it would connect
// on our behalf, out of the address check's sight), every connection
// checked, redirects returned rather than followed.
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = control
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   cfg.Batch,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Wake makes the worker look for due deliveries now.
func (w *Worker) Wake() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Stop stops claiming deliveries and waits, until ctx ends, for the
// attempts under way to finish and be recorded (at most Timeout). An
// attempt cut short would only be sent again later.
func (w *Worker) Stop(ctx context.Context) error {
	w.stop()
	select {
	case <-w.done:
		w.client.CloseIdleConnections()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: stop: %w", ctx.Err())
	}
}

func (w *Worker) run(ctx context.Context) {
	defer close(w.done)
	wake := w.cfg.Wake
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		for ctx.Err() == nil && w.pass(ctx) == w.cfg.Batch {
			// A full batch: more may be waiting.
		}
		timer.Reset(w.untilDue(ctx))
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				wake = nil // the hub closed: shutting down; the timer goes on
			}
		case <-w.poke:
		case <-timer.C:
		}
	}
}

// untilDue is how long to wait for the next delivery due, at most Idle.
func (w *Worker) untilDue(ctx context.Context) time.Duration {
	at, ok, err := w.cfg.Store.NextDeliveryDue(ctx)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			w.log.Error("webhooks: look for due deliveries", "err", err)
		}
		return w.cfg.Idle
	}
	return min(max(at.Sub(w.cfg.Store.Now()), 0), w.cfg.Idle)
}

// pass claims one batch of due deliveries, attempts them side by side and
// records the outcomes. It returns how many it claimed.
func (w *Worker) pass(ctx context.Context) int {
	ds, err := w.cfg.Store.ClaimDeliveries(ctx, w.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("webhooks: claim deliveries", "err", err)
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { w.deliver(d) })
	}
	wg.Wait()
	return len(ds)
}

// deliver makes one attempt and records it. Neither is cut short by Stop:
// the attempt has its own deadline.
func (w *Worker) deliver(d *store.Delivery) {
	started := w.cfg.Store.Now()
	clock := time.Now()
	result, status, errText := w.attempt(d, started)
	elapsed := time.Since(clock)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	disabled, err := w.cfg.Store.RecordAttempt(ctx, d, store.AttemptResult{Started: started, Duration: elapsed,
		StatusCode: status, Error: errText, Succeeded: result == ResultSucceeded})
	if w.cfg.OnAttempt != nil {
		w.cfg.OnAttempt(result, elapsed)
	}
	// Ids and outcomes only: the URL may carry a token, and the payload
	// the shopper's details.
	attrs := []any{"event", d.Event.ID, "type", d.Event.Type, "endpoint", d.Endpoint.ID, "attempt", d.Attempt,
		"result", result, "status", status, "duration", elapsed}
	switch {
	case err != nil:
		w.log.Error("webhooks: record attempt", append(attrs, "err", err)...)
	case result != ResultSucceeded:
		w.log.Warn("webhook delivery failed", append(attrs, "error", errText)...)
	default:
		w.log.Debug("webhook delivered", attrs...)
	}
	if disabled {
		w.log.Error("webhook endpoint disabled: failing for every attempt of an event's 3 days",
			"endpoint", d.Endpoint.ID, "merchant", d.Endpoint.MerchantID, "event", d.Event.ID)
	}
}

// attempt sends d once: the event rendered for the endpoint's API version,
// signed with each of its current secrets at now.
func (w *Worker) attempt(d *store.Delivery, now time.Time) (result string, status int, errText string) {
	obj, err := Object(d.Event, d.Endpoint.APIVersion, w.cfg.Present)
	if err != nil {
		return ResultError, 0, "could not render the event: " + err.Error()
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return ResultError, 0, "could not render the event: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return ResultError, 0, "invalid endpoint URL"
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderSignature, SignatureHeader(now, body, d.Endpoint.Secrets(now.Unix())...))
	req.Header.Set(HeaderEventID, d.Event.ID)
	req.Header.Set(HeaderSessionVersion, strconv.FormatInt(d.Event.SessionVersion, 10))
	resp, err := w.client.Do(req)
	if err != nil {
		return classify(err, w.cfg.Timeout)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return ResultStatus, resp.StatusCode, fmt.Sprintf("HTTP %d: redirects are not followed; register the final URL", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return ResultStatus, resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode)
	case ctx.Err() != nil:
		// The deadline passed while the answer came (a read cut short by it
		// may even look like its end).
		return ResultTimeout, resp.StatusCode, fmt.Sprintf("the answer took longer than %v", w.cfg.Timeout)
	}
	return ResultSucceeded, resp.StatusCode, ""
}

// classify names why a request got no answer, without the URL (whose path
// or query may hold a token).
func classify(err error, timeout time.Duration) (result string, status int, errText string) {
	var forbidden *errForbidden
	if errors.As(err, &forbidden) {
		return ResultRefused, 0, forbidden.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ResultTimeout, 0, fmt.Sprintf("no answer within %v", timeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return ResultError, 0, err.Error()
}
