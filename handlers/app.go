// Package handlers is paypage's HTTP layer: routes, middleware, the shopper's
// pages and the merchant JSON API, over one store.
package handlers

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	BaseURL        string   // public URL, for "url" fields (no trailing slash)
	TrustedProxies []string // IPs/CIDRs whose X-Forwarded-For is believed
	Logger         *slog.Logger
}

// handler holds the dependencies every route uses.
type handler struct {
	store *store.Store
	cfg   Config
	log   *slog.Logger
}

// New builds the Fiber app with every route in one visible place.
func New(st *store.Store, cfg Config) *fiber.App {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handler{store: st, cfg: cfg, log: cfg.Logger}
	app := fiber.New(fiber.Config{
		AppName:                 "paypage",
		ErrorHandler:            h.handleError,
		ReadTimeout:             15 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             120 * time.Second,
		BodyLimit:               1 << 20,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg.TrustedProxies),
	})
	app.Use(h.requestContext, h.recoverPanic, securityHeaders)

	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)

	api := app.Group("/v1", h.authenticate)
	api.Post("/checkout/sessions", h.apiCreateSession)
	api.Get("/checkout/sessions/:id", h.apiGetSession)

	app.Get("/pay/:id", h.checkoutPage)

	app.Use(func(c *fiber.Ctx) error { return errNotFound })
	return app
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

func (h *handler) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (h *handler) readyz(c *fiber.Ctx) error {
	if err := h.store.Ping(c.UserContext()); err != nil {
		h.logger(c).Error("readiness: database unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "database unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
