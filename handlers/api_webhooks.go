package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// Webhook endpoints, Stripe's /v1/webhook_endpoints: where a merchant's
// events are sent, per mode. The signing secret is in the answer to the
// creation (and to a roll), and never again.

// webhookEndpointObject is a "webhook_endpoint".
type webhookEndpointObject struct {
	ID            string         `json:"id"`
	Object        string         `json:"object"`
	APIVersion    *string        `json:"api_version"`
	Application   *string        `json:"application"`
	Created       int64          `json:"created"`
	Description   *string        `json:"description"`
	EnabledEvents []string       `json:"enabled_events"`
	Livemode      bool           `json:"livemode"`
	Metadata      store.Metadata `json:"metadata"`
	Secret        string         `json:"secret,omitempty"`
	Status        string         `json:"status"`
	URL           string         `json:"url"`
	// paypage's: why and when it was disabled, since when it has been
	// failing, and until when a rolled secret still signs.
	DisabledReason          *string `json:"disabled_reason"`
	DisabledAt              *int64  `json:"disabled_at"`
	FailingSince            *int64  `json:"failing_since"`
	PreviousSecretExpiresAt *int64  `json:"previous_secret_expires_at"`
}

func webhookEndpoint(e *store.WebhookEndpoint, withSecret bool) *webhookEndpointObject {
	o := &webhookEndpointObject{
		ID: e.ID, Object: "webhook_endpoint", APIVersion: dialect.Nullable(e.APIVersion), Created: e.Created,
		Description: dialect.Nullable(e.Description), EnabledEvents: e.EnabledEvents, Livemode: e.Livemode,
		Metadata: dialect.OrEmpty(e.Metadata), Status: e.Status, URL: e.URL, DisabledReason: dialect.Nullable(e.DisabledReason),
		DisabledAt: e.DisabledAt, FailingSince: e.FailingSince, PreviousSecretExpiresAt: e.PreviousSecretExpiresAt,
	}
	if withSecret {
		o.Secret = e.Secret
	}
	return o
}

// WebhookEndpointObject is an endpoint as the API shows it, so that the
// command line prints the same; the secret only when withSecret.
func WebhookEndpointObject(e *store.WebhookEndpoint, withSecret bool) any {
	return webhookEndpoint(e, withSecret)
}

type createWebhookEndpointParams struct {
	URL           *string           `json:"url"`
	EnabledEvents []string          `json:"enabled_events"`
	Description   *string           `json:"description"`
	Metadata      map[string]string `json:"metadata"`
	APIVersion    *string           `json:"api_version"`
	Connect       *bool             `json:"connect"`
	Expand        []string          `json:"expand"`
}

type updateWebhookEndpointParams struct {
	URL           *string           `json:"url"`
	EnabledEvents []string          `json:"enabled_events"`
	Description   *string           `json:"description"`
	Metadata      map[string]string `json:"metadata"`
	Disabled      *bool             `json:"disabled"`
	Expand        []string          `json:"expand"`
}

type rollSecretParams struct {
	ExpiresIn *int64   `json:"expires_in"` // seconds the old secret still signs
	Expand    []string `json:"expand"`
}

type listParams struct {
	Limit         *int64 `json:"limit"`
	StartingAfter string `json:"starting_after"`
	EndingBefore  string `json:"ending_before"`
}

func (p listParams) page() store.Page {
	return store.Page{Limit: listLimit(p.Limit), StartingAfter: p.StartingAfter, EndingBefore: p.EndingBefore}
}

// noExpand refuses expand[] values: nothing of these objects expands.
func noExpand(values []string) error {
	if len(values) > 0 {
		return store.Invalid("expand[0]", "This property cannot be expanded (%s).", values[0])
	}
	return nil
}

// requestAPIVersion is the API version a request reads objects in: its
// Stripe-Version header (Stripe's clients always send theirs), else the
// merchant's default ("", paypage's native objects).
func requestAPIVersion(c *fiber.Ctx) (string, error) {
	v, _ := c.Locals(versionKey).(string)
	return v, nil
}

// apiCreateWebhookEndpoint is POST /v1/webhook_endpoints. Its events are
// rendered in the api_version given, else the request's.
func (h *handler) apiCreateWebhookEndpoint(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p createWebhookEndpointParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	if err := noExpand(p.Expand); err != nil {
		return err
	}
	if p.Connect != nil && *p.Connect {
		return store.Invalid("connect", "paypage has no connected accounts: connect must be false.")
	}
	if p.URL != nil {
		if err := webhook.CheckURL(c.UserContext(), *p.URL, h.cfg.WebhookAllowPrivate); err != nil {
			return err
		}
	}
	if p.APIVersion == nil {
		v, err := requestAPIVersion(c)
		if err != nil {
			return err
		}
		p.APIVersion = &v
	}
	e, err := h.store.CreateWebhookEndpoint(c.UserContext(), m.ID, live, store.WebhookEndpointParams{
		URL: p.URL, EnabledEvents: p.EnabledEvents, Description: p.Description, Metadata: p.Metadata, APIVersion: p.APIVersion})
	if err != nil {
		return err
	}
	return c.JSON(webhookEndpoint(e, true))
}

// errNoSuchEndpoint answers an unknown id and another merchant's endpoint
// alike.
func errNoSuchEndpoint(id string, err error) error {
	if store.IsNotFound(err) {
		return &store.Error{Code: store.ENOTFOUND, Param: "id", Message: "No such webhook endpoint: '" + id + "'"}
	}
	return err
}

// apiGetWebhookEndpoint is GET /v1/webhook_endpoints/:id.
func (h *handler) apiGetWebhookEndpoint(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p struct {
		Expand []string `json:"expand"`
	}
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	if err := noExpand(p.Expand); err != nil {
		return err
	}
	e, err := h.store.WebhookEndpoint(c.UserContext(), m.ID, live, c.Params("id"))
	if err != nil {
		return errNoSuchEndpoint(c.Params("id"), err)
	}
	return c.JSON(webhookEndpoint(e, false))
}

// apiListWebhookEndpoints is GET /v1/webhook_endpoints, newest first.
func (h *handler) apiListWebhookEndpoints(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p listParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	es, more, err := h.store.ListWebhookEndpoints(c.UserContext(), m.ID, live, p.page())
	if err != nil {
		return err
	}
	data := make([]*webhookEndpointObject, 0, len(es))
	for _, e := range es {
		data = append(data, webhookEndpoint(e, false))
	}
	return c.JSON(dialect.NewList("/v1/webhook_endpoints", data, more))
}

// apiUpdateWebhookEndpoint is POST /v1/webhook_endpoints/:id: any of url,
// enabled_events, description, metadata, and disabled (true or false).
func (h *handler) apiUpdateWebhookEndpoint(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p updateWebhookEndpointParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	if err := noExpand(p.Expand); err != nil {
		return err
	}
	if p.URL != nil {
		if err := webhook.CheckURL(c.UserContext(), *p.URL, h.cfg.WebhookAllowPrivate); err != nil {
			return err
		}
	}
	e, err := h.store.UpdateWebhookEndpoint(c.UserContext(), m.ID, live, c.Params("id"), store.WebhookEndpointParams{
		URL: p.URL, EnabledEvents: p.EnabledEvents, Description: p.Description, Metadata: p.Metadata,
		Disabled: p.Disabled, DisabledBy: "through the API"})
	if err != nil {
		return errNoSuchEndpoint(c.Params("id"), err)
	}
	return c.JSON(webhookEndpoint(e, false))
}

// apiDeleteWebhookEndpoint is DELETE /v1/webhook_endpoints/:id.
func (h *handler) apiDeleteWebhookEndpoint(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p struct{}
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	id := c.Params("id")
	if err := h.store.DeleteWebhookEndpoint(c.UserContext(), m.ID, live, id); err != nil {
		return errNoSuchEndpoint(id, err)
	}
	return c.JSON(fiber.Map{"id": id, "object": "webhook_endpoint", "deleted": true})
}

// apiRollWebhookEndpointSecret is POST /v1/webhook_endpoints/:id/roll_secret
// (paypage's own): a new secret, in the answer only; the old one goes on
// signing beside it for expires_in seconds (default a day, at most 7 days,
// 0 to stop at once), so that receivers can switch without missing events.
func (h *handler) apiRollWebhookEndpointSecret(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p rollSecretParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	if err := noExpand(p.Expand); err != nil {
		return err
	}
	overlap := 24 * time.Hour
	if p.ExpiresIn != nil {
		if *p.ExpiresIn < 0 || *p.ExpiresIn > int64(store.MaxSecretOverlap/time.Second) {
			return store.Invalid("expires_in", "expires_in must be between 0 and %d seconds", int64(store.MaxSecretOverlap/time.Second))
		}
		overlap = time.Duration(*p.ExpiresIn) * time.Second
	}
	e, err := h.store.RollWebhookEndpointSecret(c.UserContext(), m.ID, live, c.Params("id"), overlap)
	if err != nil {
		return errNoSuchEndpoint(c.Params("id"), err)
	}
	return c.JSON(webhookEndpoint(e, true))
}

// apiListEndpointAttempts is GET /v1/webhook_endpoints/:id/delivery_attempts:
// what became of every attempt to deliver to this endpoint, newest first.
func (h *handler) apiListEndpointAttempts(c *fiber.Ctx) error {
	m, live := merchant(c)
	id := c.Params("id")
	if _, err := h.store.WebhookEndpoint(c.UserContext(), m.ID, live, id); err != nil {
		return errNoSuchEndpoint(id, err)
	}
	return h.listAttempts(c, "/v1/webhook_endpoints/"+id+"/delivery_attempts", store.AttemptFilter{EndpointID: id})
}
