package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// paypageEnv runs the binary with extra environment and returns its output.
// paypageWithEnv runs the binary with env added, returning its stdout, and
// an error carrying its stderr when it fails.
func paypageWithEnv(t *testing.T, env []string, args ...string) (string, error) {
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, stderr.String())
	}
	return string(out), nil
}

func newMerchantCLI(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	out, err := paypage(t, "merchant", "create", "--database-url", dbURL, "--name", "Hooks")
	if err != nil {
		t.Fatalf("merchant create: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWebhookEndpointCLI(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		m := newMerchantCLI(t, dbURL)
		db := []string{"--database-url", dbURL}
		allow := []string{"PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1"}
		create := append([]string{"webhook-endpoint", "create", "--merchant", m["merchant_id"], "--url", "https://10.0.0.1/hooks",
			"--enabled-event", "checkout.session.completed", "--description", "orders"}, db...)

		if _, err := paypageWithEnv(t, nil, create...); err == nil || !strings.Contains(err.Error(), "exit status 2") ||
			!strings.Contains(err.Error(), "private") {
			t.Fatalf("a private address without the setting: %v", err)
		}
		out, err := paypageWithEnv(t, allow, create...)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("create printed %q: %v", out, err)
		}
		id, _ := e["id"].(string)
		if secret, _ := e["secret"].(string); !strings.HasPrefix(id, "we_") || !strings.HasPrefix(secret, "whsec_") ||
			e["livemode"] != false || e["status"] != "enabled" || e["description"] != "orders" {
			t.Fatalf("created %v", e)
		}

		var list []map[string]any
		if out, err := paypage(t, append([]string{"webhook-endpoint", "list", "--merchant", m["merchant_id"]}, db...)...); err != nil ||
			json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["id"] != id || list[0]["secret"] != nil {
			t.Fatalf("list: %q %v", out, err)
		}
		out, err = paypage(t, append([]string{"webhook-endpoint", "update", id, "--disable"}, db...)...)
		if err != nil || !strings.Contains(out, `"status": "disabled"`) || !strings.Contains(out, "Disabled from the command line.") {
			t.Fatalf("disable: %q %v", out, err)
		}
		out, err = paypage(t, append([]string{"webhook-endpoint", "roll-secret", id, "--expire-old-in", "1h"}, db...)...)
		if err != nil || !strings.Contains(out, "whsec_") || strings.Contains(out, e["secret"].(string)) ||
			!strings.Contains(out, "previous_secret_expires_at\": 1") {
			t.Fatalf("roll-secret: %q %v", out, err)
		}
		if out, err := paypage(t, append([]string{"webhook-endpoint", "delete", id}, db...)...); err != nil || !strings.Contains(out, `"deleted": true`) {
			t.Fatalf("delete: %q %v", out, err)
		}

		for _, args := range [][]string{
			{"webhook-endpoint"},
			{"webhook-endpoint", "frobnicate"},
			{"webhook-endpoint", "list"},
			{"webhook-endpoint", "list", "--merchant", "acct_nobody"},
			{"webhook-endpoint", "list", "--merchant", m["merchant_id"], "--mode", "staging"},
			{"webhook-endpoint", "create", "--merchant", m["merchant_id"]},
			{"webhook-endpoint", "create", "--merchant", m["merchant_id"], "--url", "http://shop.example/hooks"},
			{"webhook-endpoint", "create", "--merchant", m["merchant_id"], "--url", "https://10.0.0.1/x", "--enabled-event", "charge.succeeded"},
			{"webhook-endpoint", "update", "--disable"},
			{"webhook-endpoint", "update", id, "--disable"}, // deleted
			{"webhook-endpoint", "roll-secret", "we_x", "--expire-old-in", "9d"},
		} {
			if _, err := paypageWithEnv(t, allow, append(args, db...)...); err == nil || !strings.Contains(err.Error(), "exit status 2") {
				t.Errorf("paypage %v: want a usage error (exit 2), got %v", args, err)
			}
		}
	})
}

// serveLogs starts `paypage serve` and passes its log lines on.
func serveLogs(t *testing.T, env []string, dbURL, addr string) (*exec.Cmd, <-chan string) {
	t.Helper()
	srv := exec.Command(binary(t), "serve", "--database-url", dbURL, "--addr", addr)
	srv.Env = append(os.Environ(), env...)
	srv.Dir = t.TempDir()
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	waitHealthy(t, "http://"+addr)
	return srv, logs
}

// waitLog waits for a log line containing what.
func waitLog(t *testing.T, logs <-chan string, what string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("the server exited before logging %q", what)
			}
			if strings.Contains(line, what) {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line with %q", what)
		}
	}
}

func postForm(t *testing.T, url, key, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	return out
}

// An event committed by a paypage process that is killed (SIGKILL) before
// it could deliver it is delivered by the next process: the outbox is in
// the database, not in the process.
func TestWebhooksSurviveSIGKILLBetweenCommitAndDelivery(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		recv := handlertest.StartReceiver(t)
		certFile := filepath.Join(t.TempDir(), "receiver.pem")
		if err := os.WriteFile(certFile, recv.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		// The receiver's certificate is trusted as a system root would be,
		// and it is on loopback.
		env := []string{"SSL_CERT_FILE=" + certFile, "PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1"}
		m := newMerchantCLI(t, dbURL)
		out, err := paypageWithEnv(t, env, "webhook-endpoint", "create", "--database-url", dbURL, "--merchant", m["merchant_id"],
			"--url", recv.URL, "--api-version", stripe.APIVersion)
		if err != nil {
			t.Fatalf("create endpoint: %v", err)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatal(err)
		}
		recv.SetSecret(e["secret"].(string))

		// The receiver is down when the payment is committed: the first
		// attempt fails, the event waits in the database.
		recv.Down()
		addr := freeAddr(t)
		first, logs := serveLogs(t, env, dbURL, addr)
		base := "http://" + addr
		sess := postForm(t, base+"/v1/checkout/sessions", m["test_secret_key"], "currency=eur&line_items[0][quantity]=1&"+
			"line_items[0][price_data][unit_amount]=990&line_items[0][price_data][product_data][name]=Mug")
		id := sess["id"].(string)
		postForm(t, base+"/v1/payment_events", m["test_secret_key"], "id=evt_kill_1&type=payment.succeeded&session="+id)
		line := waitLog(t, logs, "webhook delivery failed")
		if strings.Contains(line, recv.URL) || strings.Contains(line, e["secret"].(string)) {
			t.Fatalf("the log line names the URL or the secret: %s", line)
		}
		if err := first.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		first.Wait()

		// The retry falls due (rather than waiting its minute), the
		// receiver is back, and a new process delivers.
		st, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.DB().Exec(st.DB().Rebind(`UPDATE webhook_deliveries SET next_attempt_at = ?, leased_until = 0 WHERE status = 'pending'`),
			time.Now().Unix()); err != nil {
			t.Fatal(err)
		}
		recv.Up()
		second, _ := serveLogs(t, env, dbURL, freeAddr(t))
		got := recv.WaitFor(t, 10*time.Second, "the event committed before the kill", func(r []handlertest.Received) bool { return len(r) >= 1 })
		if len(got) != 1 || got[0].Event.Type != "checkout.session.completed" || got[0].Event.Data.Object["id"] != id {
			t.Fatalf("delivered %+v", got)
		}
		if err := second.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := second.Wait(); err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	})
}
