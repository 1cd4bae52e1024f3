package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// buildBinary builds paypage once per test binary: the CLI contract is what
// scripts see, so it is tested through the real executable.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "paypage-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "paypage")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func paypage(t *testing.T, args ...string) (string, error) {
	cmd := exec.Command(binary(t), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, stderr.String())
	}
	return string(out), nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestCLIContract(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		if _, err := paypage(t, "migrate", "--database-url", dbURL); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		out, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Acme",
			"--allowed-origin", "https://shop.example", "--redirect-host", "shop.example")
		if err != nil {
			t.Fatalf("merchant create: %v", err)
		}
		var created map[string]string
		if err := json.Unmarshal([]byte(out), &created); err != nil || len(created) != 4 ||
			!strings.HasPrefix(created["merchant_id"], "acct_") ||
			!strings.HasPrefix(created["test_secret_key"], "sk_test_") ||
			!strings.HasPrefix(created["live_secret_key"], "sk_live_") ||
			!strings.HasPrefix(created["webhook_secret"], "whsec_") {
			t.Fatalf("merchant create printed %q (%v)", out, err)
		}
		if _, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Bad",
			"--allowed-origin", "not a url"); err == nil || !strings.Contains(err.Error(), "exit status 2") {
			t.Fatalf("a bad origin was accepted: %v", err)
		}
		if _, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Bad",
			"--api-version", "paypage-1999-01-01"); err == nil || !strings.Contains(err.Error(), "exit status 2") {
			t.Fatalf("an unknown API version was accepted: %v", err)
		}
		for _, v := range []string{store.APIVersionBLIK, store.APIVersionStripe} {
			if _, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Pinned "+v, "--api-version", v); err != nil {
				t.Fatalf("merchant create --api-version %s: %v", v, err)
			}
		}

		addr := freeAddr(t)
		demo := exec.Command(binary(t), "demo", "--database-url", dbURL)
		demo.Env = append(os.Environ(), "PAYPAGE_ADDR="+addr)
		demoOut, err := demo.Output()
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
		key := regexp.MustCompile(`sk_test_\w+`).FindString(string(demoOut))
		urls := regexp.MustCompile(`http://\S+/pay/cs_test_\w+`).FindAllString(string(demoOut), -1)
		if key == "" || len(urls) < 10 {
			t.Fatalf("demo printed no key or too few URLs:\n%s", demoOut)
		}

		srv := exec.Command(binary(t), "serve", "--database-url", dbURL, "--addr", addr)
		srv.Dir = t.TempDir() // on PostgreSQL the generated cookie keys go to ./data
		stderr, _ := srv.StderrPipe()
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer srv.Process.Kill()
		logs := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				logs <- sc.Text()
			}
			close(logs)
		}()
		waitHealthy(t, "http://"+addr)
		for _, path := range []string{"/healthz", "/readyz"} {
			if code := get(t, "http://"+addr+path, ""); code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
		}
		for _, u := range urls {
			if code := get(t, u, ""); code != 200 {
				t.Fatalf("demo page %s: %d", u, code)
			}
		}
		id := urls[0][strings.LastIndex(urls[0], "/")+1:]
		if code := get(t, "http://"+addr+"/v1/checkout/sessions/"+id, key); code != 200 {
			t.Fatalf("API retrieve with the demo key: %d", code)
		}

		// SIGTERM: the server stops cleanly (exit 0) after logging its drain.
		if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve exited with %v after SIGTERM", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30 s of SIGTERM")
		}
		var sawDrain, sawRequestID bool
		for line := range logs {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				t.Fatalf("log line is not JSON (stderr is not a terminal): %q", line)
			}
			sawDrain = sawDrain || strings.Contains(line, "draining")
			if rec["msg"] == "request" {
				sawRequestID = true
				if id, _ := rec["request_id"].(string); !strings.HasPrefix(id, "req_") {
					t.Fatalf("request log line without a request id: %q", line)
				}
			}
		}
		if !sawDrain || !sawRequestID {
			t.Fatalf("logs lacked the drain message (%v) or request lines (%v)", sawDrain, sawRequestID)
		}
	})
}

func TestCLIRefusesUnknownCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"frobnicate"}, {"merchant", "delete"}, {"serve", "--bogus"}, {"merchant", "create"}} {
		if _, err := paypage(t, args...); err == nil || !strings.Contains(err.Error(), "exit status 2") {
			t.Errorf("paypage %v: want a usage error (exit 2), got %v", args, err)
		}
	}
}

func waitHealthy(t *testing.T, base string) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not come up")
}

func get(t *testing.T, url, key string) int {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
