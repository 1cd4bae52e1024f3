// Package harness runs paypage's benchmark (make bench): it builds paypage
// from the tree, starts it next to the reference servers (bench/ref) on
// SQLite and on PostgreSQL, loads each in turn with bench/load, alternating,
// and prints the medians of the rounds as ratios against the references,
// the database round trips of repeated reads, and the memory and latency of
// 10,000 live-update watchers, each with its goal.
package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/paypage/paypage/bench/load"
)

// Options are the harness's knobs; the defaults keep make bench under
// five minutes on a 2-core machine.
type Options struct {
	Repo        string        // the module's root, built from
	Self        string        // this binary, run again as the reference servers
	PostgresURL string        // admin URL of a throwaway cluster ("" skips PostgreSQL)
	Conns       int           // connections per load round
	Duration    time.Duration // counted time of a round
	Warmup      time.Duration // uncounted load before each round
	Rounds      int
	Sessions    int      // sessions seeded before the reads (the table keyed creates search)
	Distinct    int      // how many of them the distinct-id reads cycle through
	Watchers    int      // live-update streams (0: skip that part)
	Engines     []string // sqlite, postgres
	Out         io.Writer
	Progress    io.Writer
}

// Run runs the whole benchmark and prints its table to o.Out.
func Run(ctx context.Context, o Options) error {
	dir, err := os.MkdirTemp("", "paybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	paypage := filepath.Join(dir, "paypage")
	fmt.Fprintf(o.Progress, "paybench: building paypage from %s\n", o.Repo)
	build := exec.CommandContext(ctx, "go", "build", "-o", paypage, "./cmd/paypage")
	build.Dir, build.Stdout, build.Stderr = o.Repo, o.Progress, o.Progress
	if err := build.Run(); err != nil {
		return fmt.Errorf("build paypage: %w", err)
	}
	var reports []*report
	for _, name := range o.Engines {
		if name != "sqlite" && name != "postgres" {
			return fmt.Errorf("unknown engine %q: sqlite or postgres", name)
		}
		if name == "postgres" && o.PostgresURL == "" {
			fmt.Fprintln(o.Progress, "paybench: no PostgreSQL URL (PAYPAGE_TEST_POSTGRES_URL); SQLite only")
			continue
		}
		r, err := runEngine(ctx, o, dir, paypage, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		reports = append(reports, r)
	}
	printReports(o.Out, o, reports)
	return nil
}

func openEngine(ctx context.Context, o Options, dir, name string) (*engine, error) {
	if name == "postgres" {
		return postgresEngine(ctx, o.PostgresURL)
	}
	sub := filepath.Join(dir, "sqlite")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return nil, err
	}
	return sqliteEngine(sub), nil
}

// paypageEnv lifts the API's rate limit, which would otherwise be what is
// measured, and gives the cookie keys (no file written anywhere).
func paypageEnv() []string {
	return []string{"PAYPAGE_API_RATE=1000000000", "PAYPAGE_API_BURST=1000000000",
		"PAYPAGE_COOKIE_KEYS=" + randomHex(32)}
}

func startPaypage(ctx context.Context, dir, paypage string, e *engine) (srv *server, metricsAddr string, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	if metricsAddr, err = freeAddr(); err != nil {
		return nil, "", err
	}
	srv, err = start(ctx, dir, "paypage-"+e.name, addr, paypageEnv(), paypage, "serve", "--no-migrate",
		"--addr", addr, "--metrics-addr", metricsAddr, "--database-url", e.url)
	return srv, metricsAddr, err
}

func (o Options) loadCfg(addr string) load.Config {
	return load.Config{Addr: addr, Conns: o.Conns, Warmup: o.Warmup, Duration: o.Duration}
}

// runEngine measures paypage on one engine: seeds it, starts the
// references, runs the rounds, counts queries and watches streams.
func runEngine(ctx context.Context, o Options, dir, paypage, name string) (*report, error) {
	e, err := openEngine(ctx, o, dir, name)
	if err != nil {
		return nil, err
	}
	defer e.close()
	key, err := e.prepare(ctx, paypage)
	if err != nil {
		return nil, err
	}
	pp, metricsAddr, err := startPaypage(ctx, dir, paypage, e)
	if err != nil {
		return nil, err
	}
	defer pp.stop()
	f := &fixture{key: key, runID: randomHex(4)}
	fmt.Fprintf(o.Progress, "paybench: %s: seeding %d sessions\n", name, o.Sessions)
	var mu sync.Mutex
	seeded := load.Run(load.Config{Addr: pp.addr, Conns: o.Conns, Requests: int64(o.Sessions)}, f.seedTarget(&mu))
	if seeded.Failures > 0 || len(f.ids) == 0 {
		return nil, fmt.Errorf("seeding: %d of %d failed: %s", seeded.Failures, seeded.Requests, seeded.FirstError)
	}
	size, err := pageSize(pp.addr, f.ids[0])
	if err != nil {
		return nil, err
	}
	servers := map[string]*server{"paypage": pp}
	for _, ref := range []string{"b1", "b2"} {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args := []string{ref, "--addr", addr}
		if ref == "b2" {
			args = append(args, "--database-url", e.url, "--fit", f.ids[0], "--size", fmt.Sprint(size))
		}
		s, err := start(ctx, dir, ref+"-"+name, addr, nil, o.Self, args...)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		servers[ref] = s
	}
	r := &report{engine: name, pageSize: size, results: map[string][]load.Result{}}
	scs := f.scenarios(o.Distinct)
	for round := 1; round <= o.Rounds; round++ {
		for _, sc := range scs {
			res := load.Run(o.loadCfg(servers[sc.server].addr), sc.target)
			if res.Failures > 0 {
				return nil, fmt.Errorf("%s: %d of %d requests failed, first: %s", sc.name, res.Failures, res.Requests, res.FirstError)
			}
			r.results[sc.name] = append(r.results[sc.name], res)
			fmt.Fprintf(o.Progress, "paybench: %s round %d %-18s %s\n", name, round, sc.name, res)
		}
	}
	if r.payQueries, err = queriesPerRequest(metricsAddr, pp.addr, "/pay/"+f.ids[0], ""); err != nil {
		return nil, err
	}
	if r.statusQueries, err = queriesPerRequest(metricsAddr, pp.addr, "/pay/"+f.ids[0]+"/status", ""); err != nil {
		return nil, err
	}
	if r.retrieveQueries, err = queriesPerRequest(metricsAddr, pp.addr, "/v1/checkout/sessions/"+f.ids[0],
		"Authorization: Bearer "+f.key); err != nil {
		return nil, err
	}
	if r.keyedCreate, err = commitsPerKeyedCreate(metricsAddr, pp.addr, f); err != nil {
		return nil, err
	}
	if o.Watchers > 0 {
		pp.stop() // the watchers get a fresh process, so its memory is theirs
		// A failure here is reported in the table, not lost with the rest.
		if r.live, err = measureLive(ctx, o, dir, paypage, e, f); err != nil {
			r.liveErr = err
			fmt.Fprintf(o.Progress, "paybench: %s: live watchers: %v\n", name, err)
		}
	}
	return r, nil
}

func pageSize(addr, id string) (int, error) {
	status, body, err := httpGet(addr, "/pay/"+id, "")
	if err != nil {
		return 0, err
	}
	if status != 200 {
		return 0, fmt.Errorf("GET /pay/%s: status %d", id, status)
	}
	return len(body), nil
}
