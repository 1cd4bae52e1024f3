package handlers

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

// createSessionParams is what POST /v1/checkout/sessions takes: the store's
// parameters, with Stripe's shape where Stripe's differs from the store's.
type createSessionParams struct {
	store.SessionParams
	CustomText      *customTextParams      `json:"custom_text"` // the same shape in and out
	UIMode          string                 `json:"ui_mode"`
	AfterExpiration *afterExpirationParams `json:"after_expiration"`
	Expand          []string               `json:"expand"`
}

type afterExpirationParams struct {
	Recovery *struct {
		Enabled *bool `json:"enabled"`
	} `json:"recovery"`
}

// customTextParams is Stripe's custom_text: a message per position.
type customTextParams struct {
	AfterSubmit              *dialect.TextMessage `json:"after_submit"`
	ShippingAddress          *dialect.TextMessage `json:"shipping_address"`
	Submit                   *dialect.TextMessage `json:"submit"`
	TermsOfServiceAcceptance *dialect.TextMessage `json:"terms_of_service_acceptance"`
}

// storeParams folds the Stripe-shaped parameters into the store's, with the
// rules of dialect d that the store does not know.
func (p *createSessionParams) storeParams(d *dialect.Dialect) (*store.SessionParams, error) {
	sp := p.SessionParams
	// paypage serves hosted pages; "hosted" is the older name of Stripe's
	// "hosted_page", which paypage answered with before.
	switch {
	case p.UIMode == "" || p.UIMode == "hosted" || p.UIMode == "hosted_page":
	case slices.Contains(dialect.StripeUIModes, p.UIMode):
		return nil, store.Invalid("ui_mode", "paypage serves hosted pages only: ui_mode must be hosted_page, not %s.", p.UIMode)
	default:
		return nil, store.Invalid("ui_mode", "ui_mode must be one of %s; paypage serves hosted_page.", strings.Join(dialect.StripeUIModes, ", "))
	}
	// Stripe's clients may only name Stripe's locales; paypage's own
	// dialect takes any language paypage shows (the store checks that).
	if d == dialect.Stripe && sp.Locale != "" && sp.Locale != "auto" && !slices.Contains(dialect.StripeLocales, sp.Locale) {
		return nil, store.Invalid("locale", "locale must be auto or one of Stripe's: %s.", strings.Join(dialect.StripeLocales, ", "))
	}
	if ct := p.CustomText; ct != nil {
		text := func(m *dialect.TextMessage) string {
			if m == nil {
				return ""
			}
			return m.Message
		}
		sp.CustomText = &store.CustomText{
			AfterSubmit: text(ct.AfterSubmit), ShippingAddress: text(ct.ShippingAddress),
			Submit: text(ct.Submit), TermsOfService: text(ct.TermsOfServiceAcceptance),
		}
	}
	if ae := p.AfterExpiration; ae != nil && ae.Recovery != nil && ae.Recovery.Enabled != nil {
		if sp.RecoveryEnabled != nil && *sp.RecoveryEnabled != *ae.Recovery.Enabled {
			return nil, store.Invalid("recovery_enabled", "recovery_enabled contradicts after_expiration[recovery][enabled]; send one of them.")
		}
		sp.RecoveryEnabled = ae.Recovery.Enabled
	}
	return &sp, nil
}

// expandParams is the only parameter of retrieve and expire.
type expandParams struct {
	Expand []string `json:"expand"`
}

// listSessionsParams are GET /v1/checkout/sessions's parameters.
type listSessionsParams struct {
	Limit             *int64       `json:"limit"`
	StartingAfter     string       `json:"starting_after"`
	EndingBefore      string       `json:"ending_before"`
	Status            string       `json:"status"`
	ClientReferenceID string       `json:"client_reference_id"`
	Customer          string       `json:"customer"`
	RecoveredFrom     string       `json:"recovered_from"`
	Created           *rangeFilter `json:"created"`
	Expand            []string     `json:"expand"`
}

// rangeFilter is Stripe's filter on a timestamp: created=T for one instant,
// or created[gt]/[gte]/[lt]/[lte]=T for a range.
type rangeFilter struct {
	GT  *int64 `json:"gt"`
	GTE *int64 `json:"gte"`
	LT  *int64 `json:"lt"`
	LTE *int64 `json:"lte"`
}

func (r *rangeFilter) UnmarshalJSON(b []byte) error {
	var exact int64
	if err := json.Unmarshal(b, &exact); err == nil {
		r.GTE, r.LTE = &exact, &exact
		return nil
	}
	type plain rangeFilter
	return json.Unmarshal(b, (*plain)(r))
}

// bounds returns the inclusive range [gte, lte] that r selects, 0 meaning
// unbounded, and whether it can select anything at all.
func (r *rangeFilter) bounds() (gte, lte int64, possible bool) {
	if r == nil {
		return 0, 0, true
	}
	bounded := false
	if r.GTE != nil {
		gte = *r.GTE
	}
	if r.GT != nil {
		if *r.GT == math.MaxInt64 {
			return 0, 0, false // nothing is after the end of time (and +1 would wrap round)
		}
		gte = max(gte, *r.GT+1)
	}
	if r.LTE != nil {
		lte, bounded = *r.LTE, true
	}
	if r.LT != nil && *r.LT < 1 {
		return 0, 0, false // nothing was created before 1970 (and -1 could wrap round)
	}
	if r.LT != nil && (!bounded || *r.LT-1 < lte) {
		lte, bounded = *r.LT-1, true
	}
	if bounded && (lte < 1 || lte < gte) {
		return 0, 0, false
	}
	return max(gte, 0), lte, true
}

// listLineItemsParams are GET /v1/checkout/sessions/:id/line_items's.
type listLineItemsParams struct {
	Limit         *int64   `json:"limit"`
	StartingAfter string   `json:"starting_after"`
	EndingBefore  string   `json:"ending_before"`
	Expand        []string `json:"expand"`
}

const defaultListLimit = 10

func listLimit(l *int64) int {
	if l == nil {
		return defaultListLimit
	}
	if *l < 1 || *l > 100 {
		return 0 // refused by the store, naming "limit"
	}
	return int(*l)
}

// merchantSession loads the session named in the path, if it is the calling
// merchant's in the calling key's mode.
func (h *handler) merchantSession(c *fiber.Ctx) (*store.Session, error) {
	m, live := merchant(c)
	id := c.Params("id")
	switch {
	case !store.IsText(id):
		return nil, errNotText("id") // bytes that are not text: the request is wrong
	case !store.IsSessionID(id):
		// Stripe answers an id of any other shape as missing.
		return nil, errNoSuchSession(id, &store.Error{Code: store.ENOTFOUND})
	}
	sess, err := h.hub.Cache().MerchantSession(c.UserContext(), m.ID, live, id)
	if err != nil {
		return nil, errNoSuchSession(id, err)
	}
	return sess, nil
}

// errNoSuchSession answers an unknown id and another merchant's session with
// the same bytes, so that ids cannot be probed across merchants.
func errNoSuchSession(id string, err error) error {
	if store.IsNotFound(err) {
		return &store.Error{Code: store.ENOTFOUND, Param: "id", Message: "No such checkout.session: '" + id + "'"}
	}
	return err
}

// apiCreateSession is POST /v1/checkout/sessions.
func (h *handler) apiCreateSession(c *fiber.Ctx) error {
	m, live := merchant(c)
	d := apiDialect(c)
	var p createSessionParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	exp, err := d.ParseExpand(p.Expand, "")
	if err != nil {
		return err
	}
	sp, err := p.storeParams(d)
	if err != nil {
		return err
	}
	sp.IdempotencyKey = strings.TrimSpace(c.Get(headerIdempotencyKey))
	if sp.IdempotencyKey != "" {
		return h.createKeyed(c, m, live, sp, exp)
	}
	sess, err := h.store.CreateSession(c.UserContext(), m, live, sp)
	if err != nil {
		return err
	}
	return h.present(c, m, sess, exp)
}

// apiGetSession is GET /v1/checkout/sessions/:id.
func (h *handler) apiGetSession(c *fiber.Ctx) error {
	m, _ := merchant(c)
	var p expandParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	exp, err := apiDialect(c).ParseExpand(p.Expand, "")
	if err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	return h.present(c, m, sess, exp)
}

// apiListSessions is GET /v1/checkout/sessions: newest first.
func (h *handler) apiListSessions(c *fiber.Ctx) error {
	m, live := merchant(c)
	d := apiDialect(c)
	var p listSessionsParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	exp, err := d.ParseExpand(p.Expand, "data.")
	if err != nil {
		return err
	}
	const url = "/v1/checkout/sessions"
	gte, lte, possible := p.Created.bounds()
	if !possible {
		return c.JSON(d.Sessions(url, nil, false))
	}
	ctx := c.UserContext()
	lp := store.ListParams{
		Limit: listLimit(p.Limit), StartingAfter: p.StartingAfter, EndingBefore: p.EndingBefore,
		Status: p.Status, ClientReferenceID: p.ClientReferenceID, Customer: p.Customer,
		ParentID: p.RecoveredFrom, CreatedGTE: gte, CreatedLTE: lte,
	}
	if d == dialect.Stripe { // the status words its objects carry
		lp.Status, lp.StripeStatus = "", p.Status
	}
	sessions, more, err := h.store.ListSessions(ctx, m.ID, live, lp)
	if err != nil {
		return err
	}
	views, err := h.views(ctx, m, sessions, exp)
	if err != nil {
		return err
	}
	return c.JSON(d.Sessions(url, views, more))
}

// apiListLineItems is GET /v1/checkout/sessions/:id/line_items.
func (h *handler) apiListLineItems(c *fiber.Ctx) error {
	m, _ := merchant(c)
	d := apiDialect(c)
	var p listLineItemsParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	exp, err := d.ParseItemExpand(p.Expand)
	if err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	items, more, err := h.store.LineItems(c.UserContext(), sess.ID, listLimit(p.Limit), p.StartingAfter, p.EndingBefore)
	if err != nil {
		return err
	}
	v := &dialect.View{Session: sess, Merchant: m, BaseURL: h.cfg.BaseURL, Expand: exp}
	return c.JSON(d.LineItems(v, items, more))
}

// apiExpireSession is POST /v1/checkout/sessions/:id/expire: only an open
// session can be expired.
func (h *handler) apiExpireSession(c *fiber.Ctx) error {
	m, _ := merchant(c)
	var p expandParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	exp, err := apiDialect(c).ParseExpand(p.Expand, "")
	if err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	// The session as the merchant sees it: one past its expiry reads as
	// expired already, so expiring it is refused like any other final state.
	if sess.Status != store.StatusOpen {
		return errCannotExpire(sess.ID, sess.Status)
	}
	sess, err = h.store.Transition(c.UserContext(), sess.ID, store.Transition{Action: store.ActionExpire, Source: "api",
		Request: requestInfo(c)})
	if store.ErrorCode(err) == store.ESTATE {
		// Completed or canceled meanwhile: say so in the same words.
		if now, gerr := h.merchantSession(c); gerr == nil {
			return errCannotExpire(now.ID, now.Status)
		}
	}
	if err != nil {
		return err
	}
	return h.present(c, m, sess, exp)
}

// sessionEventObject is one recorded change of a session (paypage's own:
// no dialect but the native one has such a thing).
type sessionEventObject struct {
	Object            string          `json:"object"`
	Session           string          `json:"session"`
	Version           int64           `json:"version"`
	Action            string          `json:"action"`
	Source            string          `json:"source"`
	ExternalID        *string         `json:"external_id"`
	FromStatus        string          `json:"from_status"`
	ToStatus          string          `json:"to_status"`
	FromPaymentStatus string          `json:"from_payment_status"`
	ToPaymentStatus   string          `json:"to_payment_status"`
	Data              json.RawMessage `json:"data"`
	Created           int64           `json:"created"`
}

// apiListSessionEvents is GET /v1/checkout/sessions/:id/events: the
// session's whole history, oldest first.
func (h *handler) apiListSessionEvents(c *fiber.Ctx) error {
	if err := bindQuery(c, &struct{}{}); err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	events, err := h.store.Events(c.UserContext(), sess.ID)
	if err != nil {
		return err
	}
	data := make([]sessionEventObject, len(events))
	for i, e := range events {
		data[i] = sessionEventObject{Object: "checkout.session.event", Session: e.SessionID, Version: e.Version,
			Action: e.Action, Source: e.Source, ExternalID: e.ExternalID, FromStatus: e.FromStatus,
			ToStatus: e.ToStatus, FromPaymentStatus: e.FromPaymentStatus, ToPaymentStatus: e.ToPaymentStatus,
			Data: json.RawMessage(e.Data), Created: e.Created}
	}
	return c.JSON(dialect.NewList("/v1/checkout/sessions/"+sess.ID+"/events", data, false))
}

func errCannotExpire(id, status string) error {
	return store.Errorf(store.ESTATE, "Only Checkout Sessions with status \"open\" can be expired; %s has status %q.", id, status)
}

// present answers with sess, read whole (its line items, fees and refunds
// in), in the request's dialect.
func (h *handler) present(c *fiber.Ctx, m *store.Merchant, sess *store.Session, exp dialect.Expand) error {
	v, err := h.viewWithChildren(c.UserContext(), m, sess, exp)
	if err != nil {
		return err
	}
	return c.JSON(apiDialect(c).Session(v))
}

// view is what presenters render of a session whose children are in.
func (h *handler) view(m *store.Merchant, s *store.Session, e dialect.Expand) *dialect.View {
	return &dialect.View{Session: s, Merchant: m, BaseURL: h.cfg.BaseURL, Expand: e, ShopperToken: h.mintHCP}
}

// viewWithChildren is view with the recovery children e asks for.
func (h *handler) viewWithChildren(ctx context.Context, m *store.Merchant, s *store.Session, e dialect.Expand) (*dialect.View, error) {
	v := h.view(m, s, e)
	if !e.ChildSessions {
		return v, nil
	}
	children, more, err := h.store.ListSessions(ctx, m.ID, s.Livemode, store.ListParams{Limit: 100, ParentID: s.ID})
	if err == nil {
		err = h.store.LoadChildren(ctx, children)
	}
	if err != nil {
		return nil, err
	}
	v.Children, v.ChildrenMore = children, more
	return v, nil
}

// views gives presenters what they render of sessions read by a list: their
// line items, fees and refunds (list reads leave those out), and the
// recovery children e asks for.
func (h *handler) views(ctx context.Context, m *store.Merchant, sessions []*store.Session, e dialect.Expand) ([]*dialect.View, error) {
	if err := h.store.LoadChildren(ctx, sessions); err != nil {
		return nil, err
	}
	out := make([]*dialect.View, len(sessions))
	for i, s := range sessions {
		v, err := h.viewWithChildren(ctx, m, s, e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
