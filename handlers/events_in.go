package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

// Payment events are how a payment provider's integration tells paypage what
// happened to a payment: POST /v1/payment_events, authenticated with the
// merchant's secret key like any API call, or signed with the merchant's
// webhook secret (Paypage-Signature). Each is applied through the store's one
// transition function, once per event id. The contract is in docs/live.md.

const (
	headerSignature = "Paypage-Signature"
	// SignatureTolerance is how far a signature's timestamp may be from now.
	SignatureTolerance = 300 * time.Second
)

// eventParamsKey holds the *paymentEventParams a signature check has parsed;
// eventDuplicateKey whether the event had already been applied.
const (
	eventParamsKey    ctxKey = 300
	eventDuplicateKey ctxKey = 302
)

// countPaymentEvents counts every payment event received by its result,
// whichever way it was authenticated.
func (h *handler) countPaymentEvents(c *fiber.Ctx) error {
	err := c.Next()
	switch {
	case err != nil || c.Response().StatusCode() >= 400:
		h.metrics.paymentEvent(eventRefused)
	case c.Locals(eventDuplicateKey) == true || len(c.Response().Header.Peek(headerReplayed)) > 0:
		h.metrics.paymentEvent(eventDuplicate)
	default:
		h.metrics.paymentEvent(eventApplied)
	}
	return err
}

// paymentEventParams is the body of a payment event.
type paymentEventParams struct {
	ID             string            `json:"id"`
	Type           string            `json:"type"`
	Session        string            `json:"session"`
	PaymentIntent  string            `json:"payment_intent"`
	PaymentMethod  string            `json:"payment_method"`
	Provider       string            `json:"provider"`
	FailureReason  string            `json:"failure_reason"`
	FailureMessage string            `json:"failure_message"`
	Amount         *int64            `json:"amount"`
	RefundReason   string            `json:"refund_reason"`
	RefundStatus   string            `json:"refund_status"`
	Refund         string            `json:"refund"`
	NextAction     *store.NextAction `json:"next_action"`
}

// eventType is what a payment event's type means: the state machine's
// action, the optional parameters it takes and the ones it needs.
type eventType struct {
	action       store.Action
	takes, needs []string
}

// eventTypes are the payment events a provider's integration may send
// (docs/live.md). A new kind of event is one line here.
var eventTypes = map[string]eventType{
	"payment.processing": {action: store.ActionProcess, takes: []string{"next_action"}},
	"payment.succeeded":  {action: store.ActionSucceed},
	"payment.failed":     {action: store.ActionFail, takes: []string{"failure_reason", "failure_message", "next_action"}},
	"payment.canceled":   {action: store.ActionCancel},
	"payment.reversed":   {action: store.ActionReverse, takes: []string{"failure_reason", "failure_message"}},
	"payment.refunded":   {action: store.ActionRefund, takes: []string{"refund_reason", "refund_status"}, needs: []string{"amount"}},
	"refund.succeeded":   {action: store.ActionRefundUpdate, needs: []string{"refund"}},
	"refund.failed":      {action: store.ActionRefundUpdate, takes: []string{"failure_reason"}, needs: []string{"refund"}},
	"refund.canceled":    {action: store.ActionRefundUpdate, needs: []string{"refund"}},
}

var (
	eventIDRE  = regexp.MustCompile(`^evt_[A-Za-z0-9_-]{1,250}$`)
	reasonRE   = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)
	refundIDRE = regexp.MustCompile(`^re_[0-9A-Za-z]{1,64}$`)
)

// validate checks every field and says which one is wrong.
func (p *paymentEventParams) validate() error {
	if !eventIDRE.MatchString(p.ID) {
		return store.Invalid("id", "id must be the provider's event id: evt_ followed by 1 to 250 letters, digits, _ or -")
	}
	et, ok := eventTypes[p.Type]
	if !ok {
		return store.Invalid("type", "type must be one of %s", strings.Join(slices.Sorted(maps.Keys(eventTypes)), ", "))
	}
	if !store.IsSessionID(p.Session) {
		return store.Invalid("session", "session must be a checkout session id (cs_test_… or cs_live_…)")
	}
	for _, f := range []struct{ name, v string }{
		{"payment_intent", p.PaymentIntent}, {"payment_method", p.PaymentMethod}, {"provider", p.Provider},
	} {
		if !store.PlainText(f.v, 255) {
			return store.Invalid(f.name, "%s must be at most 255 characters of text, without control characters", f.name)
		}
	}
	given := map[string]bool{
		"failure_reason": p.FailureReason != "", "failure_message": p.FailureMessage != "", "next_action": p.NextAction != nil,
		"amount": p.Amount != nil, "refund_reason": p.RefundReason != "", "refund_status": p.RefundStatus != "", "refund": p.Refund != "",
	}
	for _, param := range slices.Sorted(maps.Keys(given)) {
		switch {
		case given[param] && !slices.Contains(et.takes, param) && !slices.Contains(et.needs, param):
			return store.Invalid(param, "%s is only accepted with type %s", param, strings.Join(typesTaking(param), " or "))
		case !given[param] && slices.Contains(et.needs, param):
			return store.Invalid(param, "%s is required for %s", param, p.Type)
		}
	}
	if p.FailureReason != "" && !reasonRE.MatchString(p.FailureReason) {
		return store.Invalid("failure_reason", "failure_reason must be a code like card_declined: lower-case letters, digits and _, at most 100")
	}
	if !store.PlainText(p.FailureMessage, 500) {
		return store.Invalid("failure_message", "failure_message must be at most 500 characters of text, without control characters")
	}
	if p.RefundReason != "" && !reasonRE.MatchString(p.RefundReason) {
		return store.Invalid("refund_reason", "refund_reason must be a code like requested_by_customer: lower-case letters, digits and _, at most 100")
	}
	if p.Amount != nil && *p.Amount < 1 {
		return store.Invalid("amount", "amount (in the currency's minor unit, at least 1) is required for payment.refunded")
	}
	if p.RefundStatus != "" && p.RefundStatus != store.RefundPending && p.RefundStatus != store.RefundSucceeded {
		return store.Invalid("refund_status", "refund_status is pending (it settles with refund.succeeded, refund.failed or refund.canceled) or succeeded (the default)")
	}
	if p.Refund != "" && !refundIDRE.MatchString(p.Refund) {
		return store.Invalid("refund", "refund must be paypage's id of the refund (re_…), as the payment.refunded answer gave it")
	}
	return nil // next_action is checked by the store, as every change's is
}

// typesTaking lists the event types that take param.
func typesTaking(param string) []string {
	var out []string
	for name, et := range eventTypes {
		if slices.Contains(et.takes, param) || slices.Contains(et.needs, param) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// transition is what the event asks of the state machine.
func (p *paymentEventParams) transition(signed bool) store.Transition {
	t := store.Transition{
		Action: eventTypes[p.Type].action, Source: "payment_event", EventID: p.ID,
		PaymentIntent: p.PaymentIntent, PaymentMethod: p.PaymentMethod, Provider: p.Provider,
		FailureReason: p.FailureReason, FailureMessage: p.FailureMessage, NextAction: p.NextAction,
		// The webhook secret lives with the provider's integration: it may
		// not send shoppers beyond the origin the secret key gave at creation.
		PinNextAction: signed,
	}
	switch {
	case p.Amount != nil:
		t.Refund = &store.RefundParams{Amount: *p.Amount, Reason: p.RefundReason, Status: p.RefundStatus}
	case p.Refund != "":
		t.RefundID = p.Refund
		t.Refund = &store.RefundParams{Status: strings.TrimPrefix(p.Type, "refund."), FailureReason: p.FailureReason}
		t.FailureReason = ""
	}
	return t
}

// signedPaymentEvent answers POST /v1/payment_events sent without an
// Authorization header: it must carry the Paypage-Signature of the merchant
// that owns the event's session. With the header the request goes on to
// the API group, where the secret key authenticates it like any API call.
func (h *handler) signedPaymentEvent(c *fiber.Ctx) error {
	if c.Get(fiber.HeaderAuthorization) != "" {
		return c.Next()
	}
	header := c.Get(headerSignature)
	if header == "" {
		return h.authFailed(c, errUnauthorizedEvent("Send the secret key in Authorization, or sign the body with your webhook secret in the "+headerSignature+" header."))
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return h.authFailed(c, err)
	}
	if err := checkTimestamp(ts, h.store.Now()); err != nil {
		return h.authFailed(c, err)
	}
	var p paymentEventParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	// The merchant is the one that owns the session. An unknown session is
	// refused like a bad signature, so that no one learns which ids exist.
	noMatch := errUnauthorizedEvent("No signature in " + headerSignature + " matches the body for this session's merchant.")
	merchantID, livemode, err := h.store.SessionOwner(c.UserContext(), p.Session)
	if store.IsNotFound(err) {
		return h.authFailed(c, noMatch)
	}
	if err != nil {
		return err
	}
	m, err := h.store.Merchant(c.UserContext(), merchantID)
	if err != nil {
		return err
	}
	if !signatureMatches(m.WebhookSecrets(h.store.Now()), ts, c.Body(), sigs) {
		return h.authFailed(c, noMatch)
	}
	if m.Disabled() {
		return h.authFailed(c, errUnauthorizedEvent("This session's merchant is disabled: its webhook secret is refused."))
	}
	if ok, wait := h.limiter.allow("webhook:" + m.ID); !ok {
		h.metrics.limited(limitWebhook)
		return &rateLimited{RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
	}
	c.Locals(merchantKey, m)
	c.Locals(livemodeKey, livemode)
	c.Locals(eventParamsKey, &p)
	return h.idempotent(h.paymentEvent)(c)
}

func errUnauthorizedEvent(msg string) error {
	return &store.Error{Code: codeUnauthorized, Message: msg}
}

// parseSignature reads "t=<unix seconds>,v1=<hex>[,v1=<hex>…]". Several v1
// values let a sender sign with an old and a new secret while rotating;
// other schemes are ignored.
func parseSignature(header string) (ts int64, sigs [][]byte, err error) {
	bad := errUnauthorizedEvent(headerSignature + " must look like t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.")
	seenT := false
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, bad
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seenT {
				return 0, nil, bad
			}
			ts, seenT = n, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return 0, nil, bad
			}
			if len(sigs) < 8 {
				sigs = append(sigs, sig)
			}
		}
	}
	if !seenT || len(sigs) == 0 {
		return 0, nil, bad
	}
	return ts, sigs, nil
}

// checkTimestamp refuses a signature made more than SignatureTolerance away
// from now, so that a captured request cannot be replayed later.
func checkTimestamp(ts int64, now time.Time) error {
	age := now.Unix() - ts
	if age > int64(SignatureTolerance/time.Second) || -age > int64(SignatureTolerance/time.Second) {
		return errUnauthorizedEvent("The " + headerSignature + " timestamp is more than 300 seconds from the server's time: sign each request when you send it, and check your clock.")
	}
	return nil
}

// signatureMatches compares, in constant time, every signature offered with
// HMAC-SHA256(secret, "<t>.<body>") for each secret the merchant accepts
// now (two during a roll's overlap).
func signatureMatches(secrets []string, ts int64, body []byte, sigs [][]byte) bool {
	ok := false
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(strconv.FormatInt(ts, 10)))
		mac.Write([]byte("."))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range sigs {
			ok = hmac.Equal(sig, want) || ok // no early exit: the time says nothing
		}
	}
	return ok
}

// paymentEventObject is the answer to a payment event.
type paymentEventObject struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Type      string `json:"type"`
	Duplicate bool   `json:"duplicate"` // already applied: nothing changed now
	Session   any    `json:"session"`   // in the request's dialect
}

// paymentEvent is POST /v1/payment_events once authenticated: it applies
// the event to the merchant's session through store.Transition.
func (h *handler) paymentEvent(c *fiber.Ctx) error {
	m, live := merchant(c)
	p, signed := c.Locals(eventParamsKey).(*paymentEventParams)
	if p == nil {
		p = new(paymentEventParams)
		if err := bindBody(c, p); err != nil {
			return err
		}
	}
	if err := p.validate(); err != nil {
		return err
	}
	// Scoped like every API read: another merchant's session, or the other
	// mode's, is answered exactly as an unknown id.
	owner, ownerLive, err := h.store.SessionOwner(c.UserContext(), p.Session)
	if store.IsNotFound(err) || (err == nil && (owner != m.ID || ownerLive != live)) {
		return &store.Error{Code: store.ENOTFOUND, Param: "session", Message: "No such checkout.session: '" + p.Session + "'"}
	}
	if err != nil {
		return err
	}
	t := p.transition(signed)
	t.Request = requestInfo(c)
	sess, err := h.store.Transition(c.UserContext(), p.Session, t)
	dup := errors.Is(err, store.ErrDuplicateEvent)
	if err != nil && !dup {
		return err
	}
	c.Locals(eventDuplicateKey, dup)
	return c.JSON(paymentEventObject{ID: p.ID, Object: "payment_event", Type: p.Type, Duplicate: dup,
		Session: apiDialect(c).Session(h.view(m, sess, dialect.Expand{}))})
}
