package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// Events, Stripe's /v1/events: every change of the merchant's sessions in
// the key's mode, kept 30 days, each as its webhooks deliver it but with
// data.object in the reader's API version.

// SessionPresenter renders the session of an event (data.object) for the
// deliveries and for /v1/events: in the dialect of the API version it is
// read in (the endpoint's, the reader's), as the API answers it.
func SessionPresenter(baseURL string) webhook.Presenter {
	baseURL = trimBaseURL(baseURL)
	return func(version string, s *store.Session) (any, error) {
		d, ok := dialect.ForVersion(version)
		if !ok {
			d = dialect.Native // an endpoint made before versions had names
		}
		return d.Session(&dialect.View{Session: s, BaseURL: baseURL}), nil
	}
}

type listEventsParams struct {
	listParams
	Type    string       `json:"type"`  // one type, or a prefix ending in * (checkout.session.*)
	Types   []string     `json:"types"` // any of these
	Created *rangeFilter `json:"created"`
}

func errNoSuchEvent(id string, err error) error {
	if store.IsNotFound(err) {
		return &store.Error{Code: store.ENOTFOUND, Param: "id", Message: "No such event: '" + id + "'"}
	}
	return err
}

// apiGetEvent is GET /v1/events/:id.
func (h *handler) apiGetEvent(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p struct{}
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	version, err := requestAPIVersion(c)
	if err != nil {
		return err
	}
	ev, err := h.store.WebhookEvent(c.UserContext(), m.ID, live, c.Params("id"))
	if err != nil {
		return errNoSuchEvent(c.Params("id"), err)
	}
	o, err := webhook.Object(ev, version, h.presenter)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// apiListEvents is GET /v1/events, newest first.
func (h *handler) apiListEvents(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p listEventsParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	if p.Type != "" && len(p.Types) > 0 {
		return store.Invalid("types", "type and types cannot be used together")
	}
	version, err := requestAPIVersion(c)
	if err != nil {
		return err
	}
	const url = "/v1/events"
	gte, lte, possible := p.Created.bounds()
	if !possible {
		return c.JSON(dialect.NewList[*webhook.EventObject](url, nil, false))
	}
	f := store.EventFilter{Types: p.Types, CreatedGTE: gte, CreatedLTE: lte}
	if p.Type != "" {
		f.Types = []string{p.Type}
	}
	evs, more, err := h.store.ListWebhookEvents(c.UserContext(), m.ID, live, p.page(), f)
	if err != nil {
		return err
	}
	data := make([]*webhook.EventObject, 0, len(evs))
	for _, ev := range evs {
		o, err := webhook.Object(ev, version, h.presenter)
		if err != nil {
			return err
		}
		data = append(data, o)
	}
	return c.JSON(dialect.NewList(url, data, more))
}

type retryEventParams struct {
	WebhookEndpoint string `json:"webhook_endpoint"`
}

// apiRetryEvent is POST /v1/events/:id/retry, as the Stripe CLI's `events
// resend` calls it: the event is sent again now, to one endpoint
// (webhook_endpoint) or to every endpoint it was sent to; a delivery that
// had succeeded or been given up gets one more attempt.
func (h *handler) apiRetryEvent(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p retryEventParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	version, err := requestAPIVersion(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if _, err := h.store.RetryWebhookEvent(c.UserContext(), m.ID, live, id, p.WebhookEndpoint); err != nil {
		return errNoSuchEvent(id, err)
	}
	ev, err := h.store.WebhookEvent(c.UserContext(), m.ID, live, id)
	if err != nil {
		return errNoSuchEvent(id, err)
	}
	o, err := webhook.Object(ev, version, h.presenter)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// deliveryAttemptObject is paypage's record of one delivery attempt.
type deliveryAttemptObject struct {
	ID              string  `json:"id"`
	Object          string  `json:"object"`
	Event           string  `json:"event"`
	WebhookEndpoint string  `json:"webhook_endpoint"`
	Attempt         int     `json:"attempt"`
	Created         int64   `json:"created"`
	DurationMS      int64   `json:"duration_ms"`
	StatusCode      *int    `json:"status_code"` // null: no HTTP answer
	Error           *string `json:"error"`
	Succeeded       bool    `json:"succeeded"`
}

// apiListEventAttempts is GET /v1/events/:id/delivery_attempts: every
// attempt to deliver this event, to any endpoint, newest first.
func (h *handler) apiListEventAttempts(c *fiber.Ctx) error {
	m, live := merchant(c)
	id := c.Params("id")
	if _, err := h.store.WebhookEvent(c.UserContext(), m.ID, live, id); err != nil {
		return errNoSuchEvent(id, err)
	}
	return h.listAttempts(c, "/v1/events/"+id+"/delivery_attempts", store.AttemptFilter{EventID: id})
}

func (h *handler) listAttempts(c *fiber.Ctx, url string, f store.AttemptFilter) error {
	m, live := merchant(c)
	var p listParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	as, more, err := h.store.ListDeliveryAttempts(c.UserContext(), m.ID, live, f, p.page())
	if err != nil {
		return err
	}
	data := make([]deliveryAttemptObject, 0, len(as))
	for _, a := range as {
		o := deliveryAttemptObject{ID: a.ID, Object: "webhook_delivery_attempt", Event: a.EventID, WebhookEndpoint: a.EndpointID,
			Attempt: a.Attempt, Created: a.Created, DurationMS: a.DurationMS, Error: dialect.Nullable(a.Error), Succeeded: a.Succeeded}
		if a.StatusCode != 0 {
			o.StatusCode = &a.StatusCode
		}
		data = append(data, o)
	}
	return c.JSON(dialect.NewList(url, data, more))
}
