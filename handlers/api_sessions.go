package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// createSessionParams is what POST /v1/checkout/sessions takes: the store's
// parameters, with Stripe's shape where Stripe's differs from the store's.
type createSessionParams struct {
	store.SessionParams
	CustomText      *customTextObject      `json:"custom_text"` // the same shape in and out
	AfterExpiration *afterExpirationParams `json:"after_expiration"`
	Expand          []string               `json:"expand"`
}

type afterExpirationParams struct {
	Recovery *struct {
		Enabled *bool `json:"enabled"`
	} `json:"recovery"`
}

// storeParams folds the Stripe-shaped parameters into the store's.
func (p *createSessionParams) storeParams() (*store.SessionParams, error) {
	sp := p.SessionParams
	if ct := p.CustomText; ct != nil {
		text := func(m *textMessage) string {
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
		gte = max(gte, *r.GT+1)
	}
	if r.LTE != nil {
		lte, bounded = *r.LTE, true
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

// expansion says which optional parts of a session to include.
type expansion struct {
	lineItems, appearance, refunds, childSessions, contract, estimate bool
}

// parseExpand reads expand[] values; a list's items are expanded as
// "data.line_items", a single object's as "line_items".
func parseExpand(values []string, prefix string) (expansion, error) {
	var e expansion
	for i, v := range values {
		name, ok := strings.CutPrefix(v, prefix)
		var flag *bool
		switch name {
		case "line_items":
			flag = &e.lineItems
		case "appearance":
			flag = &e.appearance
		case "refunds":
			flag = &e.refunds
		case "child_sessions":
			flag = &e.childSessions
		case "contract":
			flag = &e.contract
		case "estimate":
			flag = &e.estimate
		}
		if !ok || flag == nil {
			return e, store.Invalid(fmt.Sprintf("expand[%d]", i),
				"This property cannot be expanded (%s). Expandable: %sline_items, %[2]sappearance, %[2]srefunds, %[2]schild_sessions, %[2]scontract, %[2]sestimate.", v, prefix)
		}
		*flag = true
	}
	return e, nil
}

// merchantSession loads the session named in the path, if it is the calling
// merchant's in the calling key's mode.
func (h *handler) merchantSession(c *fiber.Ctx) (*store.Session, error) {
	m, live := merchant(c)
	id := c.Params("id")
	if !store.IsSessionID(id) {
		return nil, store.Invalid("id", "Invalid checkout session id: ids look like cs_test_… or cs_live_….")
	}
	sess, err := h.store.MerchantSession(c.UserContext(), m.ID, live, id)
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
	var p createSessionParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	exp, err := parseExpand(p.Expand, "")
	if err != nil {
		return err
	}
	sp, err := p.storeParams()
	if err != nil {
		return err
	}
	sp.IdempotencyKey = strings.TrimSpace(c.Get(headerIdempotencyKey))
	sess, err := h.store.CreateSession(c.UserContext(), m, live, sp)
	if err != nil {
		return err
	}
	o, err := h.sessionObject(c.UserContext(), m, sess, exp)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// apiGetSession is GET /v1/checkout/sessions/:id.
func (h *handler) apiGetSession(c *fiber.Ctx) error {
	m, _ := merchant(c)
	var p expandParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	exp, err := parseExpand(p.Expand, "")
	if err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	o, err := h.sessionObject(c.UserContext(), m, sess, exp)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// apiListSessions is GET /v1/checkout/sessions: newest first.
func (h *handler) apiListSessions(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p listSessionsParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	exp, err := parseExpand(p.Expand, "data.")
	if err != nil {
		return err
	}
	const url = "/v1/checkout/sessions"
	gte, lte, possible := p.Created.bounds()
	if !possible {
		return c.JSON(newList[*sessionObject](url, nil, false))
	}
	ctx := c.UserContext()
	sessions, more, err := h.store.ListSessions(ctx, m.ID, live, store.ListParams{
		Limit: listLimit(p.Limit), StartingAfter: p.StartingAfter, EndingBefore: p.EndingBefore,
		Status: p.Status, ClientReferenceID: p.ClientReferenceID, Customer: p.Customer,
		ParentID: p.RecoveredFrom, CreatedGTE: gte, CreatedLTE: lte,
	})
	if err != nil {
		return err
	}
	data, err := h.sessionObjects(ctx, m, sessions, exp)
	if err != nil {
		return err
	}
	return c.JSON(newList(url, data, more))
}

// apiListLineItems is GET /v1/checkout/sessions/:id/line_items.
func (h *handler) apiListLineItems(c *fiber.Ctx) error {
	var p listLineItemsParams
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	// Prices and their products are always included, so asking for them
	// to be expanded is allowed and changes nothing.
	for i, v := range p.Expand {
		if v != "data.price" && v != "data.price.product" {
			return store.Invalid(fmt.Sprintf("expand[%d]", i), "This property cannot be expanded (%s). Expandable: data.price, data.price.product.", v)
		}
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	items, more, err := h.store.LineItems(c.UserContext(), sess.ID, listLimit(p.Limit), p.StartingAfter, p.EndingBefore)
	if err != nil {
		return err
	}
	data := make([]lineItemObject, 0, len(items))
	for _, li := range items {
		data = append(data, lineItem(sess, li))
	}
	return c.JSON(newList("/v1/checkout/sessions/"+sess.ID+"/line_items", data, more))
}

// apiExpireSession is POST /v1/checkout/sessions/:id/expire: only an open
// session can be expired.
func (h *handler) apiExpireSession(c *fiber.Ctx) error {
	m, _ := merchant(c)
	var p expandParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	exp, err := parseExpand(p.Expand, "")
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
	o, err := h.sessionObject(c.UserContext(), m, sess, exp)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func errCannotExpire(id, status string) error {
	return store.Errorf(store.ESTATE, "Only Checkout Sessions with status \"open\" can be expired; %s has status %q.", id, status)
}

// sessionObject renders s with the parts e asks for.
func (h *handler) sessionObject(ctx context.Context, m *store.Merchant, s *store.Session, e expansion) (*sessionObject, error) {
	o := h.sessionBody(s)
	if e.lineItems {
		items := make([]lineItemObject, 0, len(s.LineItems))
		for _, li := range s.LineItems {
			items = append(items, lineItem(s, li))
		}
		o.LineItems = newList("/v1/checkout/sessions/"+s.ID+"/line_items", items, false)
	}
	if e.appearance {
		a := m.Appearance.Merge(s.Appearance)
		if a.DisplayName == "" {
			a.DisplayName = m.DisplayName
		}
		o.Appearance = &a
	}
	if e.refunds {
		refunds := make([]refundObject, 0, len(s.Refunds))
		for _, r := range s.Refunds {
			refunds = append(refunds, refund(r))
		}
		o.Refunds = newList("/v1/checkout/sessions/"+s.ID, refunds, false)
	}
	if e.childSessions {
		children, more, err := h.store.ListSessions(ctx, m.ID, s.Livemode, store.ListParams{Limit: 100, ParentID: s.ID})
		if err != nil {
			return nil, err
		}
		data, err := h.sessionObjects(ctx, m, children, expansion{})
		if err != nil {
			return nil, err
		}
		o.ChildSessions = newList("/v1/checkout/sessions?recovered_from="+s.ID, data, more)
	}
	if e.contract {
		o.Contract = &s.Contract
	}
	if e.estimate {
		o.Estimate = &s.Estimate
	}
	return o, nil
}

// sessionObjects renders sessions read by ListSessions, loading the line
// items, fees and refunds that list reads leave out.
func (h *handler) sessionObjects(ctx context.Context, m *store.Merchant, sessions []*store.Session, e expansion) ([]*sessionObject, error) {
	if err := h.store.LoadChildren(ctx, sessions); err != nil {
		return nil, err
	}
	out := make([]*sessionObject, 0, len(sessions))
	for _, s := range sessions {
		o, err := h.sessionObject(ctx, m, s, e)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
