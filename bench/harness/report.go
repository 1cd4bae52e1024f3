package harness

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/paypage/paypage/bench/load"
)

// report is what one engine's run measured.
type report struct {
	engine          string
	pageSize        int
	results         map[string][]load.Result // per scenario, one per round
	payQueries      roundTrips
	statusQueries   roundTrips
	retrieveQueries roundTrips
	keyedCreate     roundTrips // of a create with a fresh Idempotency-Key
	live            *liveFigures
	liveErr         error
}

func (r *report) median(name string) load.Result { return load.Median(r.results[name]) }

// comparison is one row of the table: a ratio of two scenarios' medians
// and, when it has one, the goal it must reach.
type comparison struct {
	figure, num, den string
	goal             float64 // 0: none
}

var comparisons = []comparison{
	{"/pay ÷ B2, one id", "pay-same", "b2-same", 0.9},
	{"/pay ÷ B2, distinct ids", "pay-distinct", "b2-distinct", 0.9},
	{"JSON retrieve ÷ /pay, distinct ids", "retrieve-distinct", "pay-distinct", 1},
	{"/status ÷ B1", "status-same", "b1", 0.5},
	{"/pay one id ÷ distinct ids", "pay-same", "pay-distinct", 0},
	{"keyed create ÷ plain create", "create-keyed", "create-plain", 0.9},
}

// Goals for the live-update streams.
const (
	goalLiveRSS = 200 << 20 // paypage's RSS with 10,000 watchers
	goalLiveP99 = 50 * time.Millisecond
)

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func cell(r load.Result) string {
	return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", r.RPS, fmtMs(r.P50), fmtMs(r.P99))
}

func fmtMs(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// printReports prints the table of every engine as Markdown, so that it
// can go into docs/performance.md as it is.
func printReports(w io.Writer, o Options, reports []*report) {
	fmt.Fprintf(w, "\npaybench: %d connections, medians of %d rounds of %s (after %s warm-up), %d sessions seeded, %d distinct ids\n\n",
		o.Conns, o.Rounds, o.Duration, o.Warmup, o.Sessions, o.Distinct)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| engine\t| figure\t| measured\t| against\t| ratio\t| goal\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, r := range reports {
		for _, c := range comparisons {
			num, den := r.median(c.num), r.median(c.den)
			ratio := num.RPS / den.RPS
			goal := "—"
			if c.goal > 0 {
				goal = fmt.Sprintf("≥ %.1f %s", c.goal, verdict(ratio >= c.goal))
			}
			fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %.2f\t| %s\t|\n", r.engine, c.figure, cell(num), cell(den), ratio, goal)
		}
		for _, q := range []struct {
			what string
			rt   roundTrips
		}{{"/pay", r.payQueries}, {"/status", r.statusQueries}, {"JSON retrieve", r.retrieveQueries}} {
			fmt.Fprintf(tw, "| %s\t| database round trips of a repeated %s\t| %.1f statements (%.1f with begin/commit; %.0f in the background)\t| —\t| —\t| 0 %s\t|\n",
				r.engine, q.what, q.rt.statements, q.rt.all, q.rt.background, verdict(q.rt.all < 0.05))
		}
		k := r.keyedCreate
		fmt.Fprintf(tw, "| %s\t| transactions committed per keyed create\t| %.1f (%.1f statements, %.1f round trips)\t| —\t| —\t| 1 %s\t|\n",
			r.engine, k.commits, k.statements, k.all, verdict(k.commits < 1.5))
		if r.liveErr != nil {
			fmt.Fprintf(tw, "| %s\t| SSE watchers\t| not measured: %.80s\t| —\t| —\t| FAIL\t|\n", r.engine, r.liveErr)
		}
		if l := r.live; l != nil {
			perWatcher := float64(l.rss-l.rssBefore) / float64(l.watchers) / 1024
			fmt.Fprintf(tw, "| %s\t| RSS with %d SSE watchers\t| %.0f MB (%.0f MB before, %.1f KB per watcher)\t| —\t| —\t| < 200 MB %s\t|\n",
				r.engine, l.watchers, mb(l.rss), mb(l.rssBefore), perWatcher, verdict(l.watchers >= 10000 && l.rss < goalLiveRSS))
			fmt.Fprintf(tw, "| %s\t| change → event, %d events\t| p50 %s, p99 %s, max %s\t| —\t| —\t| p99 < 50 ms %s\t|\n",
				r.engine, l.events, fmtMs(l.p50), fmtMs(l.p99), fmtMs(l.max), verdict(l.p99 < goalLiveP99))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each scenario's median round:")
	for _, r := range reports {
		fmt.Fprintf(w, "  %s (page %d bytes):\n", r.engine, r.pageSize)
		for _, name := range scenarioOrder {
			if rs, ok := r.results[name]; ok {
				fmt.Fprintf(w, "    %-18s %s\n", name, load.Median(rs))
			}
		}
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// scenarioOrder is the order scenarios run and are listed in.
var scenarioOrder = []string{"pay-same", "b2-same", "pay-distinct", "b2-distinct", "retrieve-distinct",
	"status-same", "b1", "create-plain", "create-keyed"}
