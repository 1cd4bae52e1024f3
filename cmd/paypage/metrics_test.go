package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/store/storetest"
)

// serve --metrics-addr exports the metrics on their own address (and only
// there), the sweeper's runs among them.
func TestServeExportsMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	dbURL := storetest.SQLiteURL(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	srv := exec.Command(binary(t), "serve", "--addr", addr, "--metrics-addr", metricsAddr)
	srv.Env = append(os.Environ(), "PAYPAGE_DATABASE_URL="+dbURL)
	srv.Dir = t.TempDir()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	waitHealthy(t, "http://"+addr)

	read := func() string {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	value := func(text, series string) float64 {
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
				v, _ := strconv.ParseFloat(rest, 64)
				return v
			}
		}
		return 0
	}
	healthz := `paypage_http_request_duration_seconds_count{code="2xx",method="GET",route="/healthz"}`
	before := read()
	for range 3 {
		get(t, "http://"+addr+"/healthz", "")
	}
	deadline := time.Now().Add(10 * time.Second)
	after := read()
	for value(after, `paypage_sweeper_runs_total{result="ok"}`) < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // the sweeper's first run is at start, in its own goroutine
		after = read()
	}
	if got := value(after, healthz) - value(before, healthz); got != 3 {
		t.Errorf("%s moved by %v, want 3", healthz, got)
	}
	if value(after, `paypage_sweeper_runs_total{result="ok"}`) < 1 {
		t.Error("the sweeper's run is not counted")
	}
	if !regexp.MustCompile(`(?m)^go_sql_open_connections\{db_name="sqlite"\} [1-9]`).MatchString(after) {
		t.Error("the pool is not described")
	}
	if code := get(t, "http://"+addr+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", code)
	}
}
