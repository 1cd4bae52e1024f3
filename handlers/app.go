// Package handlers is paypage's HTTP layer: routes, middleware, the shopper's
// pages and the merchant JSON API, over one store.
package handlers

import (
	"cmp"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	BaseURL        string         // public URL, for "url" fields (no trailing slash)
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is believed (ParseTrustedProxies)
	Logger         *slog.Logger
	APIRate        float64 // API requests per second per key (0: DefaultAPIRate)
	APIBurst       int     // API burst per key (0: DefaultAPIBurst)
	// CookieKeys are the shopper cookie's hash/block key pairs, newest
	// pair first (older pairs still decode, for rotation). Empty: random
	// keys valid for this process only. The hcpToken keys are derived
	// from the hash keys (hcptoken.go).
	CookieKeys [][]byte
	// Hub signals live-update streams; cmd starts one that also listens on
	// PostgreSQL. Nil: an in-process hub (this process's changes only).
	Hub *store.Hub
	// Heartbeat is how often idle live-update streams send a comment (0:
	// DefaultHeartbeat).
	Heartbeat time.Duration
	// MaxStreams and MaxStreamsPerClient cap open live-update streams in
	// this process, in all and per client address (0: the defaults).
	MaxStreams          int
	MaxStreamsPerClient int
	// Now is the rate limiters' clock (nil: time.Now); tests stop it.
	Now func() time.Time
	// Metrics, when set, counts requests and the rest (see NewMetrics);
	// cmd serves them on their own address.
	Metrics *Metrics
	// RequestTimeout bounds each request's database work (0:
	// DefaultRequestTimeout); past it the answer is 503 with Retry-After.
	RequestTimeout time.Duration
	// Presenter renders events' data.object for /v1/events; cmd gives the
	// delivery worker the same (nil: SessionPresenter(BaseURL)).
	Presenter webhook.Presenter
	// WebhookAllowPrivate lets webhook endpoints be registered on loopback
	// and private addresses (PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1).
	WebhookAllowPrivate bool
}

// handler holds the dependencies every route uses.
type handler struct {
	store   *store.Store
	cfg     Config
	log     *slog.Logger
	limiter *rateLimiter
	// authFailures budgets failed authentications per client address.
	authFailures *rateLimiter
	streams      *streamLimit
	cookies      *cookieJar
	hcp          *hcpSigner // seed 003's hcpTokens
	hub          *store.Hub
	heartbeat    time.Duration
	beat         *beat   // every stream's heartbeat (live_clock.go)
	expiries     *alarms // wakes the streams of a session when it expires
	metrics      *Metrics
	routes       map[routeKey]*routeMetrics // the request histogram's series, by route
	timeout      time.Duration              // each request's deadline
	outage       *outage                    // the database's unavailability, for 503s and /readyz
	refused      *quietCount                // 429s since the last log line
	presenter    webhook.Presenter          // events' data.object
	lastEvent    lastEvent                  // the live event made last (live.go)
}

// New builds the Fiber app with every route in one visible place.
func New(st *store.Store, cfg Config) *fiber.App {
	cfg.BaseURL = trimBaseURL(cfg.BaseURL)
	if cfg.Presenter == nil {
		cfg.Presenter = SessionPresenter(cfg.BaseURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{store: st, cfg: cfg, log: cfg.Logger, limiter: newRateLimiter(cfg.APIRate, cfg.APIBurst, cfg.Now),
		authFailures: newRateLimiter(authFailRate, authFailBurst, cfg.Now),
		streams:      newStreamLimit(cfg.MaxStreams, cfg.MaxStreamsPerClient),
		cookies:      newCookieJar(cfg.CookieKeys), hcp: newHCPSigner(cfg.CookieKeys), metrics: cfg.Metrics,
		presenter: cfg.Presenter,
		timeout:   cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout),
		outage:    newOutage(cfg.Logger, st.Ping, st.ProbeWrite),
		refused:   &quietCount{period: time.Minute}}
	h.hub, h.heartbeat = liveHub(st, cfg)
	h.beat, h.expiries = &beat{every: h.heartbeat}, newAlarms(h.hub.Notify)
	app := fiber.New(fiber.Config{
		AppName:      "paypage",
		ErrorHandler: h.handleError,
		ReadTimeout:  15 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  120 * time.Second,
		BodyLimit:    1 << 20,
		// A checkout page and its headers (about 9.5 KB) leave in one
		// write(2) instead of two with the 4 KB default: the second
		// syscall was a tenth of a page's CPU. The buffer is held per
		// keep-alive connection while it lives (not by event streams,
		// which fasthttp hands over without it).
		WriteBufferSize:       12 << 10,
		DisableStartupMessage: true,
		// Fiber believes X-Forwarded-Proto/Host only from trusted proxies;
		// the client's address is clientIP's to work out, not c.IP()'s.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          proxyStrings(cfg.TrustedProxies),
	})
	// Live streams take their connections over and close them themselves
	// (live.go): fasthttp keeps neither the request nor its buffers.
	app.Server().KeepHijackedConns = true
	app.Use(compress, h.requestContext, securityHeaders, h.recoverPanic, refuseEncodedBodies, h.shopperCookies)

	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)

	app.Get("/v1/openapi.json", h.apiOpenAPI) // public: before the group's authentication
	// Signed payment events; with an Authorization header, on to the group.
	app.Post("/v1/payment_events", h.countPaymentEvents, h.refuseFailingClients, h.signedPaymentEvent)

	// The seed systems' own retrieve endpoints: each its path, its
	// authentication and its dialect (handlers/dialect, one file each).
	// Before the /v1 group: its middleware (authentication, rate limit,
	// version) would otherwise run on seed paths under /v1 too, ahead of
	// their own.
	app.Get("/checkout/:id", h.seedChain(dialect.Billing)...)
	app.Get("/v1/checkouts/:id", h.seedChain(dialect.Paypercut)...)
	app.Get("/v1/checkout-sessions/:id", h.seedChain(dialect.Checkout)...)
	app.Get("/api/v1/sessions/:id", h.seedChain(dialect.Gateway)...)
	app.Use("/api/", useDialect(dialect.Gateway), func(c *fiber.Ctx) error { return errNotFound })

	api := app.Group("/v1", h.refuseFailingClients, h.rateLimit, h.authenticate, h.apiVersion)
	api.Post("/checkout/sessions", keyChecked(h.apiCreateSession))
	api.Get("/checkout/sessions", h.apiListSessions)
	api.Get("/checkout/sessions/:id", h.apiGetSession)
	api.Get("/checkout/sessions/:id/line_items", h.apiListLineItems)
	api.Get("/checkout/sessions/:id/events", h.apiListSessionEvents)
	api.Post("/checkout/sessions/:id/expire", h.idempotent(h.apiExpireSession))
	api.Post("/payment_events", h.idempotent(h.paymentEvent))
	api.Get("/account", h.apiGetAccount)
	api.Post("/account", h.idempotent(h.apiUpdateAccount))

	api.Post("/webhook_endpoints", h.idempotent(h.apiCreateWebhookEndpoint))
	api.Get("/webhook_endpoints", h.apiListWebhookEndpoints)
	api.Get("/webhook_endpoints/:id", h.apiGetWebhookEndpoint)
	api.Post("/webhook_endpoints/:id", h.idempotent(h.apiUpdateWebhookEndpoint))
	api.Delete("/webhook_endpoints/:id", h.apiDeleteWebhookEndpoint)
	api.Post("/webhook_endpoints/:id/roll_secret", h.idempotent(h.apiRollWebhookEndpointSecret))
	api.Get("/webhook_endpoints/:id/delivery_attempts", h.apiListEndpointAttempts)
	api.Get("/events", h.apiListEvents)
	api.Get("/events/:id", h.apiGetEvent)
	api.Post("/events/:id/retry", h.idempotent(h.apiRetryEvent))
	api.Get("/events/:id/delivery_attempts", h.apiListEventAttempts)

	app.Get("/static/:file", h.staticAsset)
	app.Get("/favicon.ico", h.favicon)

	// The shopper's pages. Every POST is a browser form: CSRF-checked.
	app.Get("/pay/:id", h.checkoutPage)
	app.Get("/pay/:id/success", h.successPage)
	app.Get("/pay/:id/cancel", h.cancelPage)
	app.Get("/pay/:id/pending", h.pendingPage)
	app.Get("/pay/:id/embed", h.embedPage)
	app.Get("/pay/:id/events", h.liveEvents)
	app.Get("/pay/:id/status", h.liveStatus)
	// What seed 003's hcpToken opens, for the merchant's front end (api_hcp.go).
	app.Get("/pay/:id/session", useDialect(dialect.Checkout), h.hcpSession)
	app.Options("/pay/:id/session", hcpPreflight)
	app.Post("/pay/:id/simulate", h.checkCSRF, h.simulatePage)
	app.Post("/pay/:id/recover", h.checkCSRF, h.recoverPage)
	app.Post("/locale", h.checkCSRF, h.chooseLocale) // the language switcher on every page

	app.Use(func(c *fiber.Ctx) error { return errNotFound })
	h.routes = h.metrics.routeTable(app)
	return app
}

// trimBaseURL is the public URL as "url" fields start with it.
func trimBaseURL(u string) string { return strings.TrimSuffix(u, "/") }

func proxyStrings(prefixes []netip.Prefix) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p.String()
	}
	return out
}

func (h *handler) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz is green while the database serves requests: red from the first
// request it failed until a probe succeeds again (outage), and within
// probeTimeout however silent the database is. The failure is logged once
// per episode, like the requests'.
func (h *handler) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := h.outage.check(c.UserContext()); err != nil {
		c.Set(fiber.HeaderRetryAfter, "1")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "database unavailable"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
