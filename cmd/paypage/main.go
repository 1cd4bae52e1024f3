// Command paypage runs the hosted checkout status service and its
// administrative subcommands. It only reads configuration and wires the
// packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/static"
	"github.com/paypage/paypage/store"
)

const defaultDatabaseURL = "sqlite:./data/paypage.db"

// command is one subcommand of the CLI. setup registers its flags on fs and
// returns what runs once they are parsed, given the positional arguments;
// it does nothing else, so that the configuration reference can list every
// command's flags without running any.
type command struct {
	name    string // "serve", "merchant update"
	args    string // how it is called after its name, for the usage
	summary string
	setup   func(fs *flag.FlagSet, c *cli) runFunc
}

type runFunc func(ctx context.Context, args []string) error

// cli is what commands write to.
type cli struct {
	stdout io.Writer
	log    *slog.Logger
}

// commands is the CLI, in the order the usage lists it (filled in by init,
// since the usage and the reference list the commands themselves).
var commands []command

func init() {
	commands = []command{
		{"serve", "[--addr ADDR] [--database-url URL] [--metrics-addr ADDR] [--no-migrate]", "serve the pages and the API", serveCmd},
		{"migrate", "[--database-url URL]", "apply pending migrations and exit", migrateCmd},
		{"demo", "[--database-url URL]", "seed a demo merchant with a session in every state; print its URLs and test key", demoCmd},
		{"config", "[--addr ADDR] [--database-url URL] [--metrics-addr ADDR]", "print the effective configuration, secrets masked", configCmd},
		{"backup", "--to FILE [--database-url URL]", "copy the live SQLite database into FILE, consistent, while servers write to it", backupCmd},
		{"healthcheck", "[--addr ADDR]", "exit 0 when the server on ADDR answers /healthz (the container's HEALTHCHECK)", healthcheckCmd},
		{"merchant create", "--name NAME [field flags]", "create a merchant; print its id, keys and webhook secret once", merchantCreateCmd},
		{"merchant list", "", "list merchants", merchantListCmd},
		{"merchant show", "ID", "show a merchant, its keys (last four characters) and its audit trail", merchantShowCmd},
		{"merchant update", "ID [field flags]", "change the fields given, validated as at creation", merchantUpdateCmd},
		{"merchant disable", "ID", "refuse the merchant's keys and show its pages as unavailable; data kept", merchantDisableCmd},
		{"merchant enable", "ID", "undo disable", merchantEnableCmd},
		{"merchant roll-key", "ID --mode test|live [--expire-old-in DURATION]", "new secret key (printed once); the old one works until the overlap ends", merchantRollKeyCmd},
		{"merchant roll-webhook-secret", "ID [--expire-old-in DURATION]", "new webhook secret (printed once); both verify during the overlap", merchantRollWebhookSecretCmd},
		{"webhook-endpoint list", "--merchant ID [--mode test|live]", "list a merchant's webhook endpoints", endpointListCmd},
		{"webhook-endpoint create", "--merchant ID --url URL [--mode test|live] [--enabled-event TYPE]... [--description TEXT] [--api-version V]",
			"register a webhook endpoint; print it with its signing secret (once)", endpointCreateCmd},
		{"webhook-endpoint update", "ID [--url URL] [--enabled-event TYPE]... [--description TEXT] [--disable|--enable]",
			"change a webhook endpoint", endpointUpdateCmd},
		{"webhook-endpoint delete", "ID", "delete a webhook endpoint", endpointDeleteCmd},
		{"webhook-endpoint roll-secret", "ID [--expire-old-in DURATION]", "new signing secret (printed once); both sign during the overlap", endpointRollSecretCmd},
	}
}

// usage is the CLI's help: the commands, then the variables.
func usage() string {
	var b strings.Builder
	b.WriteString("paypage — a self-hosted hosted-checkout status service\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  paypage %s %s\n      %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("\nCommon merchant field flags (create, update): --name --display-name --allowed-origin URL... --redirect-host HOST...\n" +
		"  --logo-url --brand-color --button-color --background-color --border-style --font-family --theme\n" +
		"  --appearance-display-name --default-locale --support-email --support-url --recovery=true|false --actor NAME\n")
	b.WriteString("\nEnvironment (flags override):\n")
	for _, s := range settings {
		def := s.Default
		if def == "" {
			def = strings.ReplaceAll(s.DefaultDoc, "`", "")
		}
		fmt.Fprintf(&b, "  %-24s %s (default %s)\n", s.Env, strings.ReplaceAll(s.Doc, "`", ""), def)
	}
	b.WriteString("\nBad flags, arguments or values exit with status 2; other failures with 1.\n" +
		"The full reference: README.md, \"Configuration\".\n")
	return b.String()
}

func main() {
	log := newLogger(os.Stderr)
	if err := run(context.Background(), os.Args[1:], os.Stdout, log); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "paypage: %s\n\n%s", err, usage())
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
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	name, rest := args[0], args[1:]
	switch name {
	case "merchant", "webhook-endpoint":
		if len(rest) == 0 {
			return usageError(name + ": which subcommand? " + strings.Join(subcommands(name), ", "))
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	for _, cmd := range commands {
		if cmd.name != name {
			continue
		}
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		runCmd := cmd.setup(fs, &cli{stdout: stdout, log: log})
		positional, err := parse(fs, rest)
		if err != nil {
			return err
		}
		if err := checkSettings(fs, cmd.name); err != nil {
			return err
		}
		return runCmd(ctx, positional)
	}
	return usageError(fmt.Sprintf("unknown command %q", name))
}

// subcommands lists the subcommands of a command group.
func subcommands(group string) []string {
	var out []string
	for _, c := range commands {
		if sub, ok := strings.CutPrefix(c.name, group+" "); ok {
			out = append(out, sub)
		}
	}
	return out
}

// newLogger logs JSON when stderr is not a terminal (collectors parse it),
// readable text when a person is watching.
func newLogger(w *os.File) *slog.Logger {
	if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// parse parses a command's flags, which may come before or after its
// positional arguments (merchant show ID --database-url URL), and returns
// those.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(fmt.Sprintf("%s: %s", fs.Name(), err))
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// noArgs refuses positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Sprintf("%s: unexpected argument %q", fs.Name(), args[0]))
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

func migrateCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		st, err := openStore(ctx, *dbURL, true)
		if err != nil {
			return err
		}
		c.log.Info("database migrated", "engine", st.Engine())
		return st.Close()
	}
}

func serveCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	addr := settingFlag(fs, "PAYPAGE_ADDR")
	metricsAddr := settingFlag(fs, "PAYPAGE_METRICS_ADDR")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the database on start")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		return serve(ctx, c.log, *dbURL, *addr, *metricsAddr, *noMigrate)
	}
}

// serve runs the server until SIGTERM or SIGINT. Its settings were checked
// (checkSettings) before it is called.
func serve(ctx context.Context, log *slog.Logger, dbURL, addr, metricsAddr string, noMigrate bool) error {
	rate, _ := strconv.ParseFloat(getenv("PAYPAGE_API_RATE"), 64)
	burst, _ := strconv.Atoi(getenv("PAYPAGE_API_BURST"))
	proxies, _ := handlers.ParseTrustedProxies(splitList(getenv("PAYPAGE_TRUSTED_PROXIES")))
	allowPrivate := getenv("PAYPAGE_WEBHOOK_ALLOW_PRIVATE") == "1"
	st, err := openStore(ctx, dbURL, !noMigrate)
	if err != nil {
		return err
	}
	defer st.Close()

	keys, err := cookieKeys(dbURL, log)
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
	metrics := handlers.NewMetrics()
	metrics.ObserveStore(st)
	metrics.ObserveHub(hub)
	// Events' data.object, in each reader's API version: the same for the
	// deliveries and for /v1/events.
	present := handlers.SessionPresenter(baseURL(addr))
	cfg := handlers.Config{
		Metrics:             metrics,
		Hub:                 hub,
		CookieKeys:          keys,
		BaseURL:             baseURL(addr),
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
	static.Prepare() // the assets compressed before the first request, not in it

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if metricsAddr != "" {
		stop, err := serveMetrics(metricsAddr, metrics, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	sweepCtx, stopSweeper := context.WithCancel(ctx)
	sweeperDone := make(chan struct{})
	go func() {
		defer close(sweeperDone)
		sweep(sweepCtx, st, log, metrics, 15*time.Second)
	}()
	// Webhooks: this instance delivers too, woken by every committed change
	// (any instance's, on PostgreSQL) and by its own timer for retries.
	wake, unsubscribe := hub.Subscribe(store.AllSessions)
	defer unsubscribe()
	deliveries := webhook.Start(webhook.Config{Store: st, Present: present, Wake: wake, AllowPrivate: allowPrivate,
		Logger: log, OnAttempt: metrics.WebhookAttempt})
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
func sweep(ctx context.Context, st *store.Store, log *slog.Logger, metrics *handlers.Metrics, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := st.SweepExpired(ctx)
		if ctx.Err() == nil {
			metrics.SweeperRun(n, err)
		}
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

// serveMetrics serves /metrics on its own address, apart from the public
// one, and returns what stops it.
func serveMetrics(addr string, metrics *handlers.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
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

// baseURL is the public URL: PAYPAGE_BASE_URL, or http:// + the listen
// address.
func baseURL(addr string) string {
	if v := getenv("PAYPAGE_BASE_URL"); v != "" {
		return strings.TrimSuffix(v, "/")
	}
	return "http://" + addr
}

func demoCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
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
		base := baseURL(getenv("PAYPAGE_ADDR"))
		fmt.Fprintf(c.stdout, "Demo merchant %q (%s)\n", d.Merchant.DisplayName, d.Merchant.ID)
		fmt.Fprintf(c.stdout, "Test-mode secret key: %s\nWebhook secret (signed payment events): %s\n\nCheckout pages:\n",
			d.Keys.Test, d.Merchant.WebhookSecret)
		for _, s := range d.Sessions {
			fmt.Fprintf(c.stdout, "  %-36s %s/pay/%s\n", s.Label, base, s.ID)
		}
		fmt.Fprintf(c.stdout, "\nAPI:\n  curl -u %s: %s/v1/checkout/sessions/%s\n", d.Keys.Test, base, d.Sessions[0].ID)
		return nil
	}
}
