// Package load is the load generator of paypage's benchmark harness: a
// fixed number of keep-alive connections to one 127.0.0.1 address, each
// sending its next request as soon as the last one is answered, for a fixed
// time (or a fixed count), with every latency kept for exact percentiles.
// It uses fasthttp's client, so that the generator costs the machine far
// less than the servers it measures.
package load

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Target describes the requests of one scenario. Request fills in request
// number i (the path, headers and body; the host is set by Run); Check
// judges the answer: a non-nil error counts the request as failed.
type Target struct {
	Request func(i int64, req *fasthttp.Request)
	Check   func(status int, body []byte) error
}

// Config is how hard and how long to load.
type Config struct {
	Addr     string        // host:port
	Conns    int           // concurrent connections (and workers)
	Warmup   time.Duration // run but not counted, first
	Duration time.Duration // counted; ignored when Requests > 0
	Requests int64         // stop after this many requests (0: run for Duration)
}

// Result is one measurement.
type Result struct {
	Requests   int64 // answered and counted, failures included
	Failures   int64
	FirstError string
	Elapsed    time.Duration
	RPS        float64 // successful requests per second
	P50, P99   time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s (%d requests, %d failed)",
		r.RPS, fmtDur(r.P50), fmtDur(r.P99), r.Requests, r.Failures)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// worker is one connection's loop and what it counted.
type worker struct {
	lat      []time.Duration
	failures int64
	firstErr string
}

// Run loads cfg.Addr with t and returns the counted part.
func Run(cfg Config, t Target) Result {
	client := &fasthttp.HostClient{
		Addr:                      cfg.Addr,
		MaxConns:                  cfg.Conns,
		ReadTimeout:               30 * time.Second,
		WriteTimeout:              30 * time.Second,
		MaxIdemponentCallAttempts: 1,
		NoDefaultUserAgentHeader:  true,
	}
	defer client.CloseIdleConnections()
	var (
		seq       atomic.Int64
		counting  atomic.Bool
		stop      atomic.Bool
		remaining atomic.Int64
		wg        sync.WaitGroup
	)
	remaining.Store(cfg.Requests)
	counting.Store(cfg.Requests > 0) // a fixed count is counted from the first request
	workers := make([]*worker, cfg.Conns)
	for n := range workers {
		w := &worker{lat: make([]time.Duration, 0, 4096)}
		workers[n] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for !stop.Load() {
				if cfg.Requests > 0 && remaining.Add(-1) < 0 {
					return
				}
				req.Reset()
				t.Request(seq.Add(1)-1, req)
				req.SetHost(cfg.Addr)
				counted := counting.Load()
				start := time.Now()
				err := client.Do(req, resp)
				took := time.Since(start)
				if err == nil && t.Check != nil {
					err = t.Check(resp.StatusCode(), resp.Body())
				}
				if !counted || stop.Load() {
					continue
				}
				w.lat = append(w.lat, took)
				if err != nil {
					if w.failures == 0 {
						w.firstErr = err.Error()
					}
					w.failures++
				}
			}
		}()
	}
	if cfg.Requests > 0 {
		start := time.Now()
		wg.Wait()
		return summarize(workers, time.Since(start))
	}
	time.Sleep(cfg.Warmup) // the warm-up is a span of load, not a wait for a condition
	counting.Store(true)
	start := time.Now()
	time.Sleep(cfg.Duration)
	stop.Store(true)
	elapsed := time.Since(start)
	wg.Wait()
	return summarize(workers, elapsed)
}

func summarize(workers []*worker, elapsed time.Duration) Result {
	var all []time.Duration
	r := Result{Elapsed: elapsed}
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Failures += w.failures
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	r.Requests = int64(len(all))
	if len(all) == 0 {
		return r
	}
	slices.Sort(all)
	r.P50 = all[len(all)*50/100]
	r.P99 = all[min(len(all)-1, len(all)*99/100)]
	r.RPS = float64(r.Requests-r.Failures) / elapsed.Seconds()
	return r
}

// Median returns the result whose RPS is the median of rs (rs not empty),
// so that its latencies come from one real round.
func Median(rs []Result) Result {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b Result) int {
		switch {
		case a.RPS < b.RPS:
			return -1
		case a.RPS > b.RPS:
			return 1
		}
		return 0
	})
	return sorted[len(sorted)/2]
}
