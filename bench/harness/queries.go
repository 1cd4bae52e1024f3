package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// queryRepeats is how many times a read is repeated to count its queries.
const queryRepeats = 200

// roundTrips is the database round trips of a repeated read, per request.
type roundTrips struct {
	statements float64 // queries and execs
	all        float64 // with begins and commits
	commits    float64
	// background is the statements paypage sent in a pause as long as the
	// requests took, right after them (the sweeper, webhook delivery, the
	// cache lease's beats on PostgreSQL): taken off the figures above.
	background float64
}

func httpGet(addr, path, header string) (int, []byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + path)
	if name, value, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(name, value)
	}
	if err := fasthttp.DoTimeout(req, resp, 30*time.Second); err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return resp.StatusCode(), bytes.Clone(resp.Body()), nil
}

// dbOps reads paypage's count of database round trips by kind from its
// metrics (paypage_db_query_duration_seconds, fed by store/instrument.go).
func dbOps(metricsAddr string) (map[string]float64, error) {
	status, body, err := httpGet(metricsAddr, "/metrics", "")
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("GET /metrics: status %d", status)
	}
	return parseDBOps(body)
}

// parseDBOps reads the round trips by kind out of a metrics page.
func parseDBOps(body []byte) (map[string]float64, error) {
	ops := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `paypage_db_query_duration_seconds_count{op="`)
		if !ok {
			continue
		}
		op, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", sc.Text(), err)
		}
		ops[op] = v
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("no paypage_db_query_duration_seconds_count in /metrics")
	}
	return ops, sc.Err()
}

// queriesPerRequest repeats GET path with header ("Name: value", or "")
// after one unmeasured request, which may fill caches, and returns the
// round trips it cost each time.
func queriesPerRequest(metricsAddr, addr, path, header string) (roundTrips, error) {
	if _, _, err := httpGet(addr, path, header); err != nil {
		return roundTrips{}, err
	}
	return roundTripsOf(metricsAddr, func() error {
		status, _, err := httpGet(addr, path, header)
		if err == nil && status != 200 {
			err = fmt.Errorf("GET %s: status %d", path, status)
		}
		return err
	})
}

// commitsPerKeyedCreate counts the round trips, and among them the
// transactions committed, of a create with a fresh Idempotency-Key (a
// statement outside a transaction commits too, uncounted there).
func commitsPerKeyedCreate(metricsAddr, addr string, f *fixture) (roundTrips, error) {
	t := f.create(true)
	rt, err := roundTripsOf(metricsAddr, func() error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		t.Request(0, req)
		req.SetHost(addr)
		if err := fasthttp.DoTimeout(req, resp, 30*time.Second); err != nil {
			return err
		}
		return t.Check(resp.StatusCode(), resp.Body())
	})
	return rt, err
}

// roundTripsOf runs do queryRepeats times, one after the other, and
// returns the round trips each cost on average: those paypage sent
// meanwhile, less those it sends in a pause as long, which are not the
// requests' (work in the background).
func roundTripsOf(metricsAddr string, do func() error) (roundTrips, error) {
	before, err := dbOps(metricsAddr)
	if err != nil {
		return roundTrips{}, err
	}
	start := time.Now()
	for range queryRepeats {
		if err := do(); err != nil {
			return roundTrips{}, err
		}
	}
	took := time.Since(start)
	during, err := dbOps(metricsAddr)
	if err != nil {
		return roundTrips{}, err
	}
	time.Sleep(took)
	pause, err := dbOps(metricsAddr)
	if err != nil {
		return roundTrips{}, err
	}
	var rt roundTrips
	for op, v := range during {
		background := pause[op] - v
		d := max(0, v-before[op]-background) / queryRepeats
		rt.all += d
		switch op {
		case "query", "exec":
			rt.statements += d
			rt.background += background
		case "commit":
			rt.commits += d
		}
	}
	return rt, nil
}
