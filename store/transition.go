package store

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Action is a request to move a session through its state machine.
type Action string

// Actions. Every change of a session's status, payment status or refunds is
// one of these, decided by apply and written by Transition, nothing else.
const (
	ActionProcess      Action = "process"       // payment submitted, awaiting the provider (needs confirmation)
	ActionSucceed      Action = "succeed"       // payment captured
	ActionFail         Action = "fail"          // payment declined; the shopper may retry while open
	ActionExpire       Action = "expire"        // merchant expired it, or its time ran out
	ActionCancel       Action = "cancel"        // shopper or provider abandoned it
	ActionRefund       Action = "refund"        // a refund of a complete session, pending or already settled
	ActionRefundUpdate Action = "refund_update" // a pending refund settles: succeeded, failed or canceled
	ActionReverse      Action = "reverse"       // the payment was taken back (a chargeback)
	// ActionSettleByChild marks an expired session as paid for by the
	// recovery child named in Transition.Child (applied with the child's
	// payment, in its transaction).
	ActionSettleByChild Action = "settle_by_child"
)

// Transition describes one change and what the caller knows about it.
type Transition struct {
	Action         Action
	Source         string // who asked: api, test_panel, sweeper, payment_event, recovery
	IfVersion      int64  // when non-zero, refuse unless the session is at this version
	EventID        string // external event id; a second delivery is refused as a duplicate
	PaymentIntent  string
	PaymentMethod  string
	Provider       string
	FailureReason  string
	FailureMessage string
	NextAction     *NextAction
	// PinNextAction limits NextAction to the origin of the next_action the
	// session was created with: set for changes asked with a weaker
	// credential than the secret key (a payment event signed with the
	// webhook secret), which must not send shoppers anywhere else.
	PinNextAction bool
	Refund        *RefundParams
	// RefundID names the refund an ActionRefundUpdate settles.
	RefundID string
	// Child is the recovery session that paid (ActionSettleByChild).
	Child string
	// Request is the API request that asked, for the events it makes.
	Request RequestInfo
}

// RefundParams is a refund to record with ActionRefund, or the outcome of a
// pending one with ActionRefundUpdate (Status and FailureReason).
type RefundParams struct {
	Amount        int64  `json:"amount"`
	Reason        string `json:"reason"`
	Status        string `json:"status"` // default succeeded
	FailureReason string `json:"failure_reason"`
}

// validate checks a provider's next action before any shopper is sent there:
// https URLs without user info, exact origins for 3-D Secure frames, and
// short, plain values for the rest.
func (n *NextAction) validate() error {
	if n == nil {
		return nil
	}
	if !oneOf(n.Type, "redirect_to_url", "three_d_secure") {
		return Invalid("next_action[type]", "next_action type must be redirect_to_url or three_d_secure")
	}
	for _, u := range []struct{ param, v string }{
		{"redirect_url", n.RedirectURL}, {"return_url", n.ReturnURL}, {"status_url", n.StatusURL},
	} {
		if (u.v != "" || u.param == "redirect_url") && !httpsURL(u.v) {
			return Invalid("next_action["+u.param+"]", "next_action %s must be an absolute https URL without user info, at most %d characters", u.param, MaxURLLength)
		}
	}
	if len(n.AllowedOrigins) > MaxAllowedOrigins {
		return Invalid("next_action[allowed_origins]", "next_action allowed_origins may list at most %d origins", MaxAllowedOrigins)
	}
	for i, o := range n.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			return Invalid(fmt.Sprintf("next_action[allowed_origins][%d]", i), "%s", err)
		}
	}
	threeDS := n.Type == "three_d_secure"
	if n.Flow != "" && (!threeDS || !oneOf(n.Flow, "challenge", "frictionless")) {
		return Invalid("next_action[flow]", "next_action flow is challenge or frictionless, for three_d_secure only")
	}
	if h := n.Hint; h != nil {
		if !threeDS || !codeRE.MatchString(h.Scheme) {
			return Invalid("next_action[hint][scheme]", "next_action hint scheme is a card scheme like visa (letters, digits, _ or -), for three_d_secure only")
		}
		if h.Version != "" && !versionRE.MatchString(h.Version) {
			return Invalid("next_action[hint][version]", "next_action hint version is a protocol version like 2.2.0")
		}
	}
	if !PlainText(n.IdempotencyKey, 255) {
		return Invalid("next_action[idempotency_key]", "next_action idempotency_key is at most 255 characters of text")
	}
	return nil
}

var (
	codeRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	versionRE = regexp.MustCompile(`^[0-9]{1,2}(\.[0-9]{1,3}){0,2}$`)
)

// httpsURL reports whether raw is an absolute https URL without user info,
// short enough and text.
func httpsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && len(raw) <= MaxURLLength && IsText(raw)
}

// PlainText reports whether s is text of at most max characters without
// control characters: what a one-line value from a provider may be.
func PlainText(s string, max int) bool {
	return IsText(s) && utf8.RuneCountInString(s) <= max &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// urlOrigin is the origin (scheme://host[:port]) of an absolute URL, or "".
func urlOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// prepare checks what Transition can check of t before any database read,
// and fills in defaults (on a copy of what t points to).
func (t *Transition) prepare() error {
	if err := t.NextAction.validate(); err != nil {
		return err
	}
	if t.Refund == nil {
		return nil
	}
	// A copy: the default status must not be written into the caller's
	// RefundParams, which may be shared (a data race, and a surprise).
	r := *t.Refund
	t.Refund = &r
	if t.Action == ActionRefundUpdate {
		if !oneOf(r.Status, RefundSucceeded, RefundFailed, RefundCanceled) {
			return Invalid("refund[status]", "a pending refund settles as succeeded, failed or canceled")
		}
		return nil
	}
	if t.Refund.Status == "" {
		t.Refund.Status = RefundSucceeded
	}
	if !oneOf(t.Refund.Status, RefundPending, RefundSucceeded, RefundFailed, RefundCanceled) {
		return Invalid("refund[status]", "refund status must be one of pending, succeeded, failed, canceled")
	}
	return nil
}

// effects are the rows a transition writes beside the session's own.
type effects struct {
	newRefund     *Refund // ActionRefund
	updatedRefund *Refund // ActionRefundUpdate
}

// apply is the state machine: it applies t, at the unix second now, to a
// session as stored (its refunds loaded), and returns the session after it
// and the rows to write beside it — or an ESTATE error saying why not, or
// an EINVALID one naming what is wrong. It reads and writes nothing else:
// transition_test.go tests it without a database.
func apply(sess Session, t Transition, now int64) (Session, effects, error) {
	from := sess
	// The merchant may expire an open session at any time; every other
	// action sees the session as the clock does.
	if t.Action != ActionExpire {
		sess.Effective(now)
	}
	var eff effects
	refuse := func() (Session, effects, error) {
		return from, effects{}, Errorf(ESTATE, "cannot %s a checkout session that is %s (payment %s)", actionWords(t.Action), sess.Status, sess.PaymentStatus)
	}
	st, ps := sess.Status, sess.PaymentStatus
	at := func(p **int64) {
		if *p == nil {
			*p = &now
		}
	}
	switch t.Action {
	case ActionProcess:
		if st != StatusOpen || ps == PaymentNoPaymentRequired {
			return refuse()
		}
		sess.Status, sess.PaymentStatus = StatusProcessing, PaymentPending
		at(&sess.ConfirmedAt)
		sess.NextAction = t.NextAction
		sess.FailureReason, sess.FailureMessage = "", ""
	case ActionSucceed:
		if st != StatusOpen && st != StatusProcessing {
			return refuse()
		}
		sess.Status, sess.PaymentStatus = StatusComplete, PaymentPaid
		if ps == PaymentNoPaymentRequired {
			sess.PaymentStatus = PaymentNoPaymentRequired
		} else {
			at(&sess.PaidAt)
		}
		at(&sess.ConfirmedAt)
		at(&sess.CompletedAt)
		sess.NextAction, sess.FailureReason, sess.FailureMessage = nil, "", ""
	case ActionFail:
		if (st != StatusOpen && st != StatusProcessing) || ps == PaymentNoPaymentRequired {
			return refuse()
		}
		sess.Status, sess.PaymentStatus = StatusOpen, PaymentFailed
		// What the shopper does next is the provider's to say: a retry URL
		// with the failure, or nothing (the challenge it replaces is spent
		// either way).
		sess.NextAction = t.NextAction
		sess.FailureReason, sess.FailureMessage = t.FailureReason, t.FailureMessage
		if sess.FailureReason == "" {
			sess.FailureReason = "generic_decline"
		}
	case ActionExpire:
		if st != StatusOpen {
			return refuse()
		}
		sess.Status = StatusExpired
		sess.ExpiredAt = &now
		if now >= from.ExpiresAt {
			exp := from.ExpiresAt // the sweeper records when it really expired
			sess.ExpiredAt = &exp
		}
		sess.NextAction = nil
	case ActionCancel:
		if st != StatusOpen && st != StatusProcessing {
			return refuse()
		}
		sess.Status = StatusCanceled
		if ps == PaymentPending {
			sess.PaymentStatus = PaymentUnpaid
		}
		at(&sess.CanceledAt)
		sess.NextAction = nil
	case ActionRefund:
		if st != StatusComplete || (ps != PaymentPaid && ps != PaymentPartiallyRefunded) {
			return refuse()
		}
		if err := recordRefund(&sess, t.Refund, &eff, now); err != nil {
			return from, effects{}, err
		}
	case ActionRefundUpdate:
		if err := settleRefund(&sess, t, &eff, now); err != nil {
			return from, effects{}, err
		}
	case ActionReverse:
		if st != StatusComplete || (ps != PaymentPaid && ps != PaymentPartiallyRefunded) {
			return refuse()
		}
		sess.PaymentStatus = PaymentReversed
		sess.FailureReason, sess.FailureMessage = t.FailureReason, t.FailureMessage
		if sess.FailureReason == "" {
			sess.FailureReason = "chargeback"
		}
	case ActionSettleByChild:
		if st != StatusExpired || sess.SettledBy != "" || t.Child == "" {
			return refuse()
		}
		sess.SettledBy = t.Child
	default:
		return from, eff, Invalid("type", "unknown action %q", t.Action)
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&sess.PaymentIntent, t.PaymentIntent}, {&sess.PaymentMethod, t.PaymentMethod}, {&sess.Provider, t.Provider}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	sess.Version, sess.Updated, sess.LastActivityAt = from.Version+1, now, now
	return sess, eff, nil
}

// recordRefund adds a refund to a paid session: pending ones hold their
// amount until they settle, so that refunds in flight can never add up to
// more than was paid; a succeeded one moves the money now.
func recordRefund(sess *Session, r *RefundParams, eff *effects, now int64) error {
	if r == nil {
		return Invalid("amount", "a refund needs an amount")
	}
	left := sess.AmountTotal - sess.AmountRefunded - sess.reservedForRefunds()
	if r.Amount < 1 || r.Amount > left {
		return Invalid("amount", "refund amount must be between 1 and %d (what is left to refund, pending refunds counted)", left)
	}
	ref := Refund{ID: newID("re_"), SessionID: sess.ID, Amount: r.Amount, Currency: sess.Currency,
		Status: r.Status, Reason: r.Reason, FailureReason: r.FailureReason, Created: now, Updated: now}
	eff.newRefund = &ref
	sess.Refunds = append(append([]Refund(nil), sess.Refunds...), ref)
	if r.Status == RefundSucceeded {
		sess.AmountRefunded += r.Amount
	}
	sess.PaymentStatus = sess.refundedStatus()
	return nil
}

// settleRefund settles the pending refund t names: succeeded moves its
// money, failed and canceled free what it held.
func settleRefund(sess *Session, t Transition, eff *effects, now int64) error {
	i := sess.refundIndex(t.RefundID)
	if i < 0 {
		return &Error{Code: ENOTFOUND, Param: "refund", Message: fmt.Sprintf("No such refund: '%s'", t.RefundID)}
	}
	ref := sess.Refunds[i]
	if ref.Status != RefundPending {
		return Errorf(ESTATE, "refund %s is %s: only a pending refund can settle", ref.ID, ref.Status)
	}
	if t.Refund == nil {
		return Invalid("refund[status]", "a pending refund settles as succeeded, failed or canceled")
	}
	if t.Refund.Status == RefundSucceeded && sess.Status != StatusComplete {
		return Errorf(ESTATE, "cannot settle a refund of a checkout session that is %s", sess.Status)
	}
	ref.Status, ref.FailureReason, ref.Updated = t.Refund.Status, t.Refund.FailureReason, now
	if ref.Status == RefundFailed && ref.FailureReason == "" {
		ref.FailureReason = "unknown"
	}
	eff.updatedRefund = &ref
	sess.Refunds = append([]Refund(nil), sess.Refunds...)
	sess.Refunds[i] = ref
	if ref.Status == RefundSucceeded {
		sess.AmountRefunded += ref.Amount
		if sess.PaymentStatus != PaymentReversed {
			sess.PaymentStatus = sess.refundedStatus()
		}
	}
	return nil
}

// actionWords is how an error message names an action.
func actionWords(a Action) string {
	switch a {
	case ActionRefundUpdate:
		return "settle a refund of"
	case ActionSettleByChild:
		return "settle by a recovery"
	}
	return string(a)
}

// reservedForRefunds is what the session's pending refunds hold.
func (s *Session) reservedForRefunds() int64 {
	var n int64
	for _, r := range s.Refunds {
		if r.Status == RefundPending {
			n += r.Amount
		}
	}
	return n
}

// refundedStatus is the payment status of a paid session after its
// succeeded refunds.
func (s *Session) refundedStatus() string {
	switch {
	case s.AmountRefunded == 0:
		return PaymentPaid
	case s.AmountRefunded >= s.AmountTotal:
		return PaymentRefunded
	}
	return PaymentPartiallyRefunded
}

func (s *Session) refundIndex(id string) int {
	for i, r := range s.Refunds {
		if r.ID == id {
			return i
		}
	}
	return -1
}
