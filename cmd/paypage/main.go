// Command paypage runs the hosted checkout status service and its
// administrative subcommands. It only reads configuration and wires the
// packages together.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

const usage = `paypage — a self-hosted hosted-checkout status service

Usage:
  paypage serve [--addr 127.0.0.1:8080] [--database-url URL] [--no-migrate]
  paypage migrate [--database-url URL]
  paypage demo [--database-url URL]
  paypage merchant create --name NAME [--allowed-origin URL]... [--redirect-host HOST]...
  paypage webhook-endpoint list --merchant ID [--mode test|live]
  paypage webhook-endpoint create --merchant ID --url URL [--mode test|live] [--enabled-event TYPE]...
                                  [--description TEXT] [--api-version VERSION]
  paypage webhook-endpoint update ID [--url URL] [--enabled-event TYPE]... [--description TEXT] [--disable|--enable]
  paypage webhook-endpoint delete ID
  paypage webhook-endpoint roll-secret ID [--expire-old-in 24h]

Environment:
  PAYPAGE_ADDR            listen address (default 127.0.0.1:8080)
  PAYPAGE_DATABASE_URL    postgres://… (PostgreSQL) or sqlite:PATH (default sqlite:./data/paypage.db)
  PAYPAGE_BASE_URL        public URL used in "url" fields (default http://ADDR)
  PAYPAGE_COOKIE_KEYS     comma-separated cookie keys, newest first (default: generated, kept in the data dir)
  PAYPAGE_TRUSTED_PROXIES comma-separated proxy IPs/CIDRs whose X-Forwarded-For is trusted
  PAYPAGE_API_RATE        API requests per second per key, per instance (default 100)
  PAYPAGE_API_BURST       API burst per key, per instance (default 200)
  PAYPAGE_WEBHOOK_ALLOW_PRIVATE  1: webhook endpoints may be on loopback and private addresses (tests only)
`

const defaultDatabaseURL = "sqlite:./data/paypage.db"

func main() {
	log := newLogger(os.Stderr)
	if err := run(context.Background(), os.Args[1:], os.Stdout, log); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "paypage: %s\n\n%s", err, usage)
			os.Exit(2)
		}
		log.Error("paypage failed", "err", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], log)
	case "migrate":
		return migrate(ctx, args[1:], log)
	case "demo":
		return demo(ctx, args[1:], stdout)
	case "merchant":
		if len(args) < 2 || args[1] != "create" {
			return usageError("merchant: the only subcommand is create")
		}
		return merchantCreate(ctx, args[2:], stdout)
	case "webhook-endpoint":
		return webhookEndpointCmd(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}

// newLogger logs JSON when stderr is not a terminal (collectors parse it),
// readable text when a person is watching.
func newLogger(w *os.File) *slog.Logger {
	if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbURL := fs.String("database-url", env("PAYPAGE_DATABASE_URL", defaultDatabaseURL), "database URL")
	return fs, dbURL
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError(fmt.Sprintf("%s: %s", fs.Name(), err))
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0)))
	}
	return nil
}

func openStore(ctx context.Context, dbURL string, migrate bool) (*store.Store, error) {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

func migrate(ctx context.Context, args []string, log *slog.Logger) error {
	fs, dbURL := newFlags("migrate")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	log.Info("database migrated", "engine", st.Engine())
	return st.Close()
}

func serve(ctx context.Context, args []string, log *slog.Logger) error {
	fs, dbURL := newFlags("serve")
	addr := fs.String("addr", env("PAYPAGE_ADDR", "127.0.0.1:8080"), "listen address")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the database on start")
	if err := parse(fs, args); err != nil {
		return err
	}
	rate, err := strconv.ParseFloat(env("PAYPAGE_API_RATE", "0"), 64)
	if err != nil || rate < 0 {
		return usageError("PAYPAGE_API_RATE must be a number of requests per second")
	}
	burst, err := strconv.Atoi(env("PAYPAGE_API_BURST", "0"))
	if err != nil || burst < 0 {
		return usageError("PAYPAGE_API_BURST must be a whole number of requests")
	}
	proxies, err := handlers.ParseTrustedProxies(splitList(os.Getenv("PAYPAGE_TRUSTED_PROXIES")))
	if err != nil {
		return usageError("PAYPAGE_TRUSTED_PROXIES: " + err.Error())
	}
	allowPrivate, err := allowPrivateWebhooks()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL, !*noMigrate)
	if err != nil {
		return err
	}
	defer st.Close()

	keys, err := cookieKeys(*dbURL, log)
	if err != nil {
		return err
	}
	// Live updates: this process's changes, and on PostgreSQL every
	// instance's through one LISTEN connection. Closed after the drain
	// below (deferred), before the pool.
	hub := store.NewHub(st, log)
	listenCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = hub.Listen(listenCtx)
	cancel()
	if err != nil {
		return err
	}
	defer hub.Close()
	baseURL := env("PAYPAGE_BASE_URL", "http://"+*addr)
	present := handlers.SessionPresenter(baseURL)
	cfg := handlers.Config{
		Hub:                 hub,
		CookieKeys:          keys,
		BaseURL:             baseURL,
		TrustedProxies:      proxies,
		Logger:              log,
		APIRate:             rate,
		APIBurst:            burst,
		Presenter:           present,
		WebhookAllowPrivate: allowPrivate,
	}
	app := handlers.New(st, cfg)
	if allowPrivate {
		log.Warn("webhooks: PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1: endpoints may be on loopback and private addresses")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	sweepCtx, stopSweeper := context.WithCancel(ctx)
	sweeperDone := make(chan struct{})
	go func() {
		defer close(sweeperDone)
		sweep(sweepCtx, st, log, 15*time.Second)
	}()
	// Webhooks: this instance delivers too, woken by every committed change
	// (any instance's, on PostgreSQL) and by its own timer for retries.
	wake, unsubscribe := hub.Subscribe(store.AllSessions)
	defer unsubscribe()
	deliveries := webhook.Start(webhook.Config{Store: st, Present: present, Wake: wake, AllowPrivate: allowPrivate, Logger: log})
	stopBackground := func() {
		stopSweeper()
		<-sweeperDone
		// Attempts under way finish (10 s at most) and are recorded;
		// nothing new is claimed.
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := deliveries.Stop(stopCtx); err != nil {
			log.Error("shutdown: webhook deliveries", "err", err)
		}
	}

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("paypage listening", "addr", ln.Addr().String(), "engine", st.Engine(), "base_url", cfg.BaseURL)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-served:
		stopBackground()
		return err
	case s := <-sig:
		log.Info("shutting down: draining in-flight requests", "signal", s.String())
	}
	// Drain first (in-flight requests still use the pool; live-update
	// streams end as the server shuts down), then stop the sweeper and the
	// webhook deliveries, then the deferred Closes release the hub and the
	// pool.
	if err := app.ShutdownWithTimeout(25 * time.Second); err != nil {
		log.Error("shutdown", "err", err)
	}
	stopBackground()
	log.Info("stopped")
	return nil
}

// sweep persists expiries and prunes old idempotency keys and webhook
// events until ctx ends.
// Reads are exact without it; it keeps the stored status honest for lists,
// exports and other instances.
func sweep(ctx context.Context, st *store.Store, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := st.SweepExpired(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("sweeper: expire sessions", "err", err)
		} else if n > 0 {
			log.Info("sweeper: sessions expired", "count", n)
		}
		if _, err := st.PruneIdempotency(ctx); err != nil && ctx.Err() == nil {
			log.Error("sweeper: prune idempotency keys", "err", err)
		}
		if _, err := st.PruneWebhookEvents(ctx); err != nil && ctx.Err() == nil {
			log.Error("sweeper: prune webhook events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func demo(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("demo")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.SeedDemo(ctx)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(env("PAYPAGE_BASE_URL", "http://"+env("PAYPAGE_ADDR", "127.0.0.1:8080")), "/")
	fmt.Fprintf(stdout, "Demo merchant %q (%s)\n", d.Merchant.DisplayName, d.Merchant.ID)
	fmt.Fprintf(stdout, "Test-mode secret key: %s\nWebhook secret (signed payment events): %s\n\nCheckout pages:\n",
		d.Keys.Test, d.Merchant.WebhookSecret)
	for _, s := range d.Sessions {
		fmt.Fprintf(stdout, "  %-36s %s/pay/%s\n", s.Label, base, s.ID)
	}
	fmt.Fprintf(stdout, "\nAPI:\n  curl -u %s: %s/v1/checkout/sessions/%s\n", d.Keys.Test, base, d.Sessions[0].ID)
	return nil
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func merchantCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("merchant create")
	name := fs.String("name", "", "merchant name (required)")
	var origins, hosts repeated
	fs.Var(&origins, "allowed-origin", "origin allowed to embed the status iframe (repeatable)")
	fs.Var(&hosts, "redirect-host", "host return URLs may point to (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageError("merchant create: --name is required")
	}
	st, err := openStore(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	m := &store.Merchant{Name: *name, AllowedOrigins: store.StringList(origins), RedirectHosts: store.StringList(hosts)}
	keys, err := st.CreateMerchant(ctx, m)
	if err != nil {
		var se *store.Error
		if errors.As(err, &se) && se.Code == store.EINVALID {
			return usageError("merchant create: " + se.Message)
		}
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{
		"merchant_id": m.ID, "test_secret_key": keys.Test, "live_secret_key": keys.Live,
		// Beyond the contract's three keys: signed payment events need it,
		// and like the keys it is shown here once.
		"webhook_secret": m.WebhookSecret,
	})
}
