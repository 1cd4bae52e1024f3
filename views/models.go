// Package views holds paypage's templ components and the view models they
// take. Components never touch the store; handlers build the models, and
// cross-cutting values (locale printer, CSP nonce, CSRF token) come from the
// context (see Request).
package views

import "time"

// ErrorView is an error page.
type ErrorView struct {
	Status    int
	RequestID string
	Param     string // 400: the form field that was refused
	Locale    string // 400 from the language switcher: the value asked for
	// Unavailable: the merchant was disabled by the operator.
	Unavailable bool
}

// State is what a page shows a session as: one of a few clear views,
// derived from the stored status and payment status.
type State string

// States, one per view of a checkout session.
const (
	StateOpen              State = "open"                // waiting for the shopper to pay
	StateFailed            State = "failed"              // last attempt declined; may retry
	StateNoPaymentRequired State = "no_payment_required" // open, nothing to pay
	StateProcessing        State = "processing"          // submitted, waiting for the provider
	StateRequiresAction    State = "requires_action"     // processing, the shopper must confirm (3-D Secure)
	StatePaid              State = "paid"                // complete, paid: the receipt
	StateCompleteFree      State = "complete_free"       // complete, nothing was due
	StatePartiallyRefunded State = "partially_refunded"
	StateRefunded          State = "refunded"
	StateReversed          State = "reversed" // complete, but the payment was taken back (a chargeback): not paid
	StateExpired           State = "expired"
	StateCanceled          State = "canceled"
)

// Return pages a shopper may land on.
const (
	ReturnSuccess = "success"
	ReturnCancel  = "cancel"
	ReturnPending = "pending"
)

// CheckoutView is one checkout session as its pages show it: /pay/:id and,
// with Return set, the success, cancel and pending return pages.
type CheckoutView struct {
	ID            string
	Status        string // stored values, for <main data-status data-payment-status>
	PaymentStatus string
	Version       int64
	Livemode      bool
	Mode          string // payment | subscription | setup

	Merchant   string // display name
	Appearance Appearance
	Support    Support

	Currency       string
	Items          []ItemView
	Adjustments    []AdjustmentView
	AmountSubtotal int64
	AmountTotal    int64
	AmountRefunded int64
	LineTax        int64 // tax charged on line items (no adjustment row of its own)

	CustomerEmail string
	Reference     string // client_reference_id
	CustomText    CustomText

	Now       time.Time
	ExpiresAt time.Time
	PaidAt    *time.Time
	DoneAt    *time.Time // completed, canceled or expired, whichever applies

	PaymentMethod string
	Provider      string
	FailureReason string // code, e.g. card_declined
	NextActionURL string // https, from the provider; "" when none
	Refunds       []RefundView

	CancelURL         string // back to the merchant while unpaid
	PendingURL        string // back to the merchant while the payment is confirmed
	SuccessURL        string // {CHECKOUT_SESSION_ID} filled in
	HostedCompletion  bool   // after_completion.type = hosted: stay on the receipt
	CompletionMessage string // after_completion.custom_message
	RecoveryEnabled   bool
	Recovered         bool // this session replaces an expired one

	Return string // "", or one of ReturnSuccess, ReturnCancel, ReturnPending
	// Stay: the shopper chose to stay on a settled return page rather than
	// be taken on to the merchant (see stayURL).
	Stay bool
}

// Support is how the shopper reaches the merchant.
type Support struct {
	Email string
	URL   string // https only; the handler drops anything else
}

// CustomText is the merchant's copy around the pay button.
type CustomText struct {
	Submit, AfterSubmit, ShippingAddress, TermsOfService string
}

// ItemView is one line item, amounts in minor units.
type ItemView struct {
	Name          string
	Description   string
	Quantity      int64
	UnitAmount    int64
	Amount        int64 // quantity × unit amount
	Interval      string
	IntervalCount int
}

// AdjustmentView is a fee, discount, tax or shipping line.
type AdjustmentView struct {
	Kind   string // fee | discount | tax | shipping
	Label  string
	Amount int64
}

// RefundView is one refund on a paid session.
type RefundView struct {
	Amount  int64
	Status  string // pending | succeeded | failed | canceled
	Created time.Time
}

// State derives the view from the stored status and payment status.
func (v CheckoutView) State() State {
	switch v.Status {
	case "open":
		switch v.PaymentStatus {
		case "failed":
			return StateFailed
		case "no_payment_required":
			return StateNoPaymentRequired
		}
		return StateOpen
	case "processing":
		if v.NextActionURL != "" {
			return StateRequiresAction
		}
		return StateProcessing
	case "complete":
		switch v.PaymentStatus {
		case "no_payment_required":
			return StateCompleteFree
		case "partially_refunded":
			return StatePartiallyRefunded
		case "refunded":
			return StateRefunded
		case "reversed":
			return StateReversed
		}
		return StatePaid
	case "expired":
		return StateExpired
	case "canceled":
		return StateCanceled
	}
	return StateOpen
}

// Payable reports whether the shopper can still act to pay (or confirm).
func (v CheckoutView) Payable() bool {
	switch v.State() {
	case StateOpen, StateFailed, StateNoPaymentRequired:
		return true
	}
	return false
}

// Settled reports whether the outcome is final and good: the shopper may go
// on to the merchant.
func (v CheckoutView) Settled() bool {
	switch v.State() {
	case StatePaid, StateCompleteFree, StatePartiallyRefunded, StateRefunded:
		return true
	}
	return false
}

// Waiting reports whether the page waits for the provider and refreshes.
func (v CheckoutView) Waiting() bool {
	s := v.State()
	return s == StateProcessing || s == StateRequiresAction
}

// CountdownWindow is how long before expiry the page shows a countdown.
const CountdownWindow = 5 * time.Minute

// RefreshSeconds is how often a waiting page looks for the outcome.
const RefreshSeconds = 3

// RedirectSeconds is how long a settled return page waits before going on
// to the merchant.
const RedirectSeconds = 5

// Remaining is the time left to pay, rounded up to whole seconds.
func (v CheckoutView) Remaining() int64 {
	d := v.ExpiresAt.Sub(v.Now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// ShowCountdown reports whether the expiry countdown is shown: only in the
// last five minutes of an open session.
func (v CheckoutView) ShowCountdown() bool {
	return v.Payable() && v.Remaining() > 0 && v.ExpiresAt.Sub(v.Now) <= CountdownWindow
}

// RedirectURL is where a settled return page sends the shopper after the
// countdown, or "" to stay (hosted completion, no success_url, or /pay).
func (v CheckoutView) RedirectURL() string {
	if v.Return == "" || v.Return == ReturnCancel || !v.Settled() || v.HostedCompletion {
		return ""
	}
	return v.SuccessURL
}

// Refresh is the number of seconds after which a browser without
// JavaScript reloads the page (0: never): to see the outcome while waiting,
// or the expired state once time runs out.
func (v CheckoutView) Refresh() int64 {
	switch {
	case v.Waiting():
		return RefreshSeconds
	case v.ShowCountdown():
		return v.Remaining() + 1
	}
	return 0
}

// MerchantBack is the link back to the merchant for the current state:
// the success URL once settled, the pending URL while waiting, the cancel
// URL otherwise.
func (v CheckoutView) MerchantBack() string {
	if v.Settled() && v.SuccessURL != "" && !v.HostedCompletion {
		return v.SuccessURL
	}
	if v.Settled() {
		return ""
	}
	if v.Waiting() && v.PendingURL != "" {
		return v.PendingURL
	}
	return v.CancelURL
}

// failureKeys are the failure reasons with a message of their own.
var failureKeys = map[string]bool{
	"authentication_required": true, "card_declined": true, "expired_card": true, "incorrect_cvc": true,
	"incorrect_number": true, "insufficient_funds": true, "processing_error": true,
}

// FailureKey is the catalog key explaining the failure reason.
func (v CheckoutView) FailureKey() string {
	if failureKeys[v.FailureReason] {
		return "failure." + v.FailureReason
	}
	return "failure.generic"
}
