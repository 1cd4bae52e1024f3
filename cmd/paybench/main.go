// Command paybench is paypage's benchmark harness (make bench; see
// docs/performance.md). Run from the module's root, it builds paypage and
// measures it against the reference servers, which are this same binary:
//
//	paybench [flags]                                  the benchmark
//	paybench b1 --addr HOST:PORT                       plaintext Hello World
//	paybench b2 --addr HOST:PORT --database-url URL    the hand-written page
//	        [--fit SESSION_ID --size BYTES]            of that size for that session
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/paypage/paypage/bench/harness"
	"github.com/paypage/paypage/bench/ref"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "b1":
		err = serveB1(shutdownContext(), os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "b2":
		err = serveB2(shutdownContext(), os.Args[2:])
	default:
		// Interrupted, the benchmark just ends: the servers it started die
		// with it (Pdeathsig), the database is a throwaway cluster's.
		err = bench(context.Background(), os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "paybench:", err)
		os.Exit(1)
	}
}

// shutdownContext ends when the harness stops a reference server.
func shutdownContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	return ctx
}

func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("paybench", flag.ContinueOnError)
	o := harness.Options{Out: os.Stdout, Progress: os.Stderr, PostgresURL: os.Getenv("PAYPAGE_TEST_POSTGRES_URL")}
	fs.StringVar(&o.Repo, "repo", ".", "the paypage module's root, built from")
	fs.IntVar(&o.Conns, "conns", 64, "connections per load round")
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "counted time of each round")
	fs.DurationVar(&o.Warmup, "warmup", 300*time.Millisecond, "uncounted load before each round")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of every scenario (medians are printed)")
	fs.IntVar(&o.Sessions, "sessions", 5000, "sessions seeded per engine before the rounds")
	fs.IntVar(&o.Distinct, "distinct", 1200, "how many seeded sessions the distinct-id reads cycle through")
	fs.IntVar(&o.Watchers, "watchers", 10000, "live-update streams opened per engine (0: skip)")
	engines := fs.String("engines", "sqlite,postgres", "the engines to measure, in order")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Engines = strings.Split(*engines, ",")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Self = self
	// Every watcher is a descriptor here and one in paypage, which
	// inherits this limit.
	if err := raiseFileLimit(uint64(o.Watchers) + 1024); err != nil {
		return err
	}
	return harness.Run(ctx, o)
}

// raiseFileLimit raises the soft limit on open files to the hard one, and
// fails when even that is below need.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Max < need {
		return fmt.Errorf("open files are limited to %d (hard); %d watchers need %d: raise it or pass -watchers", lim.Max, need-1024, need)
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

func serveB1(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("b1", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	app := ref.B1()
	go func() { <-ctx.Done(); app.Shutdown() }()
	return app.Listen(*addr)
}

func serveB2(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("b2", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8082", "listen address")
	dbURL := fs.String("database-url", "", "paypage's database (postgres://… or sqlite:PATH)")
	fit := fs.String("fit", "", "a session whose page sets the page size")
	size := fs.Int("size", 0, "the page size, in bytes, of session --fit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b2, err := ref.OpenB2(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer b2.Close()
	if *fit != "" {
		if err := b2.FitTo(ctx, *fit, *size); err != nil {
			return fmt.Errorf("b2: fit the page to %s: %w", *fit, err)
		}
	}
	app := b2.App()
	go func() { <-ctx.Done(); app.Shutdown() }()
	return app.Listen(*addr)
}
