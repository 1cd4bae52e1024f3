package load

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve answers every request with its own path, on a loopback port.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { c.SetBody(c.Path()) }}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func TestRunCountsEveryRequestAndEachFailure(t *testing.T) {
	t.Parallel()
	addr := serve(t)
	res := Run(Config{Addr: addr, Conns: 8, Requests: 500}, Target{
		Request: func(i int64, req *fasthttp.Request) { req.SetRequestURI("/" + strconv.FormatInt(i%10, 10)) },
		Check: func(status int, body []byte) error {
			if status != 200 {
				return errors.New("status " + strconv.Itoa(status))
			}
			if string(body) == "/3" {
				return errors.New("three")
			}
			return nil
		},
	})
	if res.Requests != 500 || res.Failures != 50 || res.FirstError != "three" {
		t.Fatalf("got %d requests, %d failures (%q), want 500, 50 (three)", res.Requests, res.Failures, res.FirstError)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.RPS <= 0 {
		t.Fatalf("percentiles or rate: %s", res)
	}
}

func TestRunForADurationCountsOnlyThatSpan(t *testing.T) {
	t.Parallel()
	addr := serve(t)
	start := time.Now()
	res := Run(Config{Addr: addr, Conns: 4, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond},
		Target{Request: func(_ int64, req *fasthttp.Request) { req.SetRequestURI("/") }})
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Fatalf("returned after %s, before warm-up and duration were over", took)
	}
	if res.Requests == 0 || res.Failures != 0 || res.Elapsed < 200*time.Millisecond {
		t.Fatalf("%s over %s", res, res.Elapsed)
	}
}

func TestMedianIsARealRound(t *testing.T) {
	t.Parallel()
	rs := []Result{{RPS: 30, P99: 3}, {RPS: 10, P99: 1}, {RPS: 20, P99: 2}}
	if m := Median(rs); m.RPS != 20 || m.P99 != 2 {
		t.Fatalf("median %+v, want the 20 req/s round", m)
	}
	if rs[0].RPS != 30 {
		t.Fatal("Median reordered its argument")
	}
}
