package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// stripeNodeDir holds check.mjs and the npm packages it runs: Stripe's
// official Node client and ajv.
const stripeNodeDir = "../testdata/stripe-node"

// stripeNodeReport is what check.mjs prints.
type stripeNodeReport struct {
	Checks   int `json:"checks"`
	Failures []struct {
		Check  string `json:"check"`
		Detail string `json:"detail"`
	} `json:"failures"`
	Violations []string `json:"violations"` // every distinct schema violation
}

// TestStripeNodeClient runs Stripe's Node client, unchanged but for host,
// port and protocol, against paypage on every engine: create, retrieve and
// expand, list and auto-pagination, line items, expire, idempotency and
// typed errors, with every object it receives validated against Stripe's
// checkout.session schema.
func TestStripeNodeClient(t *testing.T) {
	t.Parallel()
	node := stripeNode(t)
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		key, ids := seedStripeNodeSessions(t, srv)
		report := runStripeNode(t, node, srv.URL, key, ids)
		for _, f := range report.Failures {
			// An object's schema violations are listed once, below.
			detail := strings.Split(f.Detail, "\n")
			if len(detail) > 3 {
				detail = append(detail[:3], fmt.Sprintf("… and %d more", len(detail)-3))
			}
			t.Errorf("%s\n\t%s", f.Check, strings.Join(detail, "\n\t"))
		}
		if len(report.Violations) > 0 {
			t.Errorf("%d of %d checks failed; the distinct schema violations:\n\t%s",
				len(report.Failures), report.Checks, strings.Join(report.Violations, "\n\t"))
		}
	})
}

// stripeNode returns the path of node, once the harness's packages are
// installed. Without them it skips t, or fails it when PAYPAGE_REQUIRE_ALL=1,
// so that CI cannot pass without having run Stripe's Node client.
func stripeNode(t *testing.T) string {
	t.Helper()
	unavailable := func(reason string) {
		t.Helper()
		msg := "Stripe's Node client unavailable: " + reason
		if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not on PATH; install Node.js 20 or newer")
	}
	// stripe@23 needs Node.js 20 (Debian 12's own nodejs is 18).
	out, err := exec.Command(node, "--version").Output()
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	if n, convErr := strconv.Atoi(major); err != nil || convErr != nil || n < 20 {
		unavailable(fmt.Sprintf("%s --version says %q (%v); Stripe's Node client needs Node.js 20 or newer", node, out, err))
	}
	for _, pkg := range []string{"stripe", "ajv"} {
		if _, err := os.Stat(filepath.Join(stripeNodeDir, "node_modules", pkg, "package.json")); err != nil {
			unavailable("run `npm ci` in testdata/stripe-node (make test does): " + err.Error())
		}
	}
	return node
}

// seedStripeNodeSessions creates the demo merchant with its sessions in
// every state, a recovery of the expired one and a subscription, and returns
// the merchant's test key and the sessions by state.
func seedStripeNodeSessions(t *testing.T, srv *handlertest.Server) (string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	demo, err := srv.Store.SeedDemo(ctx)
	if err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	states := map[string]string{
		"open, unpaid (EUR)": "open", "open, unpaid (JPY, no minor units)": "open_jpy",
		"open, unpaid (KWD, three decimals)": "open_kwd", "payment failed, retry possible": "failed",
		"processing (needs confirmation)": "processing", "complete, paid": "paid",
		"complete, partially refunded": "partially_refunded", "complete, refunded": "refunded",
		"no payment required": "no_payment_required", "canceled": "canceled", "expired (recoverable)": "expired",
	}
	ids := map[string]string{}
	for _, s := range demo.Sessions {
		state, ok := states[s.Label]
		if !ok {
			t.Fatalf("demo session %q has no state name; add it to seedStripeNodeSessions", s.Label)
		}
		ids[state] = s.ID
	}
	child, err := srv.Store.Recover(ctx, ids["expired"])
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	ids["recovered_child"] = child.ID

	unit := int64(900)
	sub, err := srv.Store.CreateSession(ctx, demo.Merchant, false, &store.SessionParams{
		Mode: "subscription", Currency: "usd", SuccessURL: "https://demo.example/thanks",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Espresso club"},
			Recurring:   &store.Recurring{Interval: "week", IntervalCount: 2}}}},
	})
	if err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	ids["subscription"] = sub.ID
	return demo.Keys.Test, ids
}

// runStripeNode runs check.mjs against the server at base and returns its
// report; it fails t when the script gives none.
func runStripeNode(t *testing.T, node, base, key string, ids map[string]string) stripeNodeReport {
	t.Helper()
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check.mjs")
	cmd.Dir = stripeNodeDir
	cmd.Env = append(os.Environ(), "PAYPAGE_URL="+base, "PAYPAGE_KEY="+key, "PAYPAGE_SESSION_IDS="+string(idsJSON))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("check.mjs did not finish within 3 minutes\nstdout: %s\nstderr: %s", stdout.Bytes(), stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var report stripeNodeReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &report); err != nil || report.Checks == 0 {
		t.Fatalf("check.mjs gave no report (%v, %v)\nstdout: %s\nstderr: %s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	var exit *exec.ExitError
	if (runErr == nil) != (len(report.Failures) == 0) || (runErr != nil && !errors.As(runErr, &exit)) {
		t.Fatalf("check.mjs exited with %v but reported %d failures\nstderr: %s", runErr, len(report.Failures), stderr.Bytes())
	}
	return report
}
