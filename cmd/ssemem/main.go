// Command ssemem measures what live-update watchers cost a paypage server:
// the resident memory per open Server-Sent Events stream, and how long a
// change takes to reach the streams watching it (p50, p99).
//
//	go run ./cmd/ssemem -watchers 10000 -sessions 100 -rounds 50
//
// The server runs in this process, over a throwaway SQLite database on
// 127.0.0.1; the watchers run in a child process (this program again), so
// that their memory is not counted. Memory is the server's RSS after a
// full GC with the watchers connected, minus its RSS before they came.
// Latency is from just before the change is committed to the arrival of
// its event at each watcher of the session (the wall clock of both
// processes). It is bounded: it ends after its rounds.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
)

func main() {
	if os.Getenv("SSEMEM_CHILD") == "1" {
		if err := watch(); err != nil {
			fmt.Fprintln(os.Stderr, "ssemem watchers:", err)
			os.Exit(1)
		}
		return
	}
	watchers := flag.Int("watchers", 10_000, "live-update streams to open")
	sessions := flag.Int("sessions", 100, "sessions they watch (evenly)")
	rounds := flag.Int("rounds", 50, "changes to time")
	flag.DurationVar(&settle, "settle", 11*time.Second, "wait after the watchers connected, before measuring")
	flag.Parse()
	if err := serve(*watchers, *sessions, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "ssemem:", err)
		os.Exit(1)
	}
}

var settle time.Duration

func serve(watchers, sessions, rounds int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ssemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, "sqlite:"+dir+"/paypage.db")
	if err != nil {
		return err
	}
	defer st.Close()
	ids, err := seed(ctx, st, sessions)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := store.NewHub(st, quiet)
	defer hub.Close()
	app := handlers.New(st, handlers.Config{BaseURL: "http://127.0.0.1", Logger: quiet, Hub: hub,
		MaxStreams: watchers + 1, MaxStreamsPerClient: watchers + 1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go app.Listener(ln)
	defer app.ShutdownWithTimeout(5 * time.Second)
	return measure(st, ln.Addr().String(), ids, watchers, rounds)
}

// seed migrates the database and creates a merchant and n open sessions.
func seed(ctx context.Context, st *store.Store, n int) ([]string, error) {
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	m := &store.Merchant{Name: "Shop"}
	if _, err := st.CreateMerchant(ctx, m); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	unit := int64(1250)
	for i := range ids {
		sess, err := st.CreateSession(ctx, m, false, &store.SessionParams{Currency: "eur",
			LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
				ProductData: &store.ProductData{Name: "Mug"}}}}, CancelURL: "https://shop.example/cart"})
		if err != nil {
			return nil, err
		}
		ids[i] = sess.ID
	}
	return ids, nil
}

// measure runs the watchers against the server at base and prints what
// they cost and how fast changes reach them.
func measure(st *store.Store, base string, ids []string, watchers, rounds int) error {
	ctx := context.Background()
	sessions := len(ids)
	before, goBefore := settledRSS(), runtime.NumGoroutine()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self)
	child.Env = append(os.Environ(), "SSEMEM_CHILD=1", "SSEMEM_ADDR="+base, "SSEMEM_WATCHERS="+strconv.Itoa(watchers),
		"SSEMEM_IDS="+strings.Join(ids, ","))
	child.Stderr = os.Stderr
	toChild, err := child.StdinPipe()
	if err != nil {
		return err
	}
	fromChild, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Wait()
	defer toChild.Close()
	lines := bufio.NewScanner(fromChild)
	if !lines.Scan() || lines.Text() != "connected" {
		return fmt.Errorf("the watchers did not connect: %q", lines.Text())
	}
	// fasthttp's idle workers (one per connection accepted at once) stop
	// after 10 s: what stays is what the streams hold.
	time.Sleep(settle)
	after, goAfter := settledRSS(), runtime.NumGoroutine()
	fmt.Printf("watchers: %d on %d sessions\n", watchers, sessions)
	fmt.Printf("server RSS: %.1f MB before, %.1f MB with the watchers: %.1f KB per watcher; goroutines %d -> %d\n",
		mb(before), mb(after), float64(after-before)/1024/float64(watchers), goBefore, goAfter)

	var lat []time.Duration
	for r := range rounds {
		id := ids[r%len(ids)]
		t0 := time.Now()
		fmt.Fprintf(toChild, "expect %d %d\n", r%len(ids), t0.UnixNano())
		if !lines.Scan() || lines.Text() != "ready" {
			return fmt.Errorf("round %d: the watchers did not answer", r)
		}
		t0 = time.Now()
		fmt.Fprintf(toChild, "sent %d\n", t0.UnixNano())
		if _, err := st.Transition(ctx, id, store.Transition{Action: store.ActionFail, Source: "ssemem",
			FailureReason: "card_declined"}); err != nil {
			return err
		}
		if !lines.Scan() {
			return fmt.Errorf("round %d: no latencies", r)
		}
		for _, f := range strings.Fields(lines.Text()) {
			ns, _ := strconv.ParseInt(f, 10, 64)
			lat = append(lat, time.Duration(ns))
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("change -> event: %d events, p50 %v, p99 %v, max %v\n", len(lat),
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	}
	return nil
}

// settledRSS is the process's resident memory after a full collection
// with the freed memory returned to the system.
func settledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
