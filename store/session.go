package store

// Status is a checkout session's lifecycle state.
const (
	StatusOpen       = "open"
	StatusProcessing = "processing"
	StatusComplete   = "complete"
	StatusExpired    = "expired"
	StatusCanceled   = "canceled"
)

// Payment statuses.
const (
	PaymentUnpaid            = "unpaid"
	PaymentPending           = "pending"
	PaymentPaid              = "paid"
	PaymentFailed            = "failed"
	PaymentNoPaymentRequired = "no_payment_required"
	PaymentPartiallyRefunded = "partially_refunded"
	PaymentRefunded          = "refunded"
	// PaymentReversed: the payment was taken back (a chargeback): a
	// payment outcome of its own, after which nothing more can be refunded.
	PaymentReversed = "reversed"
)

// Session is a checkout session: what the shopper pays for, where they go
// afterwards, and the true state of the payment. Times are unix seconds.
type Session struct {
	Seq                int64           `db:"seq"`
	ID                 string          `db:"id"`
	MerchantID         string          `db:"merchant_id"`
	Livemode           bool            `db:"livemode"`
	Mode               string          `db:"mode"` // payment | subscription | setup
	Status             string          `db:"status"`
	PaymentStatus      string          `db:"payment_status"`
	Currency           string          `db:"currency"`
	DisplayCurrency    string          `db:"display_currency"`
	AmountSubtotal     int64           `db:"amount_subtotal"`
	AmountTotal        int64           `db:"amount_total"`
	AmountDiscount     int64           `db:"amount_discount"`
	AmountTax          int64           `db:"amount_tax"`
	AmountShipping     int64           `db:"amount_shipping"`
	AmountRefunded     int64           `db:"amount_refunded"`
	CustomerID         string          `db:"customer_id"`
	Customer           Customer        `db:"customer"` // snapshot taken at creation
	Guest              bool            `db:"guest"`
	ClientReferenceID  string          `db:"client_reference_id"`
	SuccessURL         string          `db:"success_url"`
	CancelURL          string          `db:"cancel_url"`
	PendingURL         string          `db:"pending_url"`
	ReturnURL          string          `db:"return_url"`
	AfterCompletion    AfterCompletion `db:"after_completion"`
	Locale             string          `db:"locale"`
	Appearance         *Appearance     `db:"appearance"` // override of the merchant's
	CustomText         CustomText      `db:"custom_text"`
	PaymentMethodTypes StringList      `db:"payment_method_types"`
	WalletOptions      WalletOptions   `db:"wallet_options"`
	PaymentMethod      string          `db:"payment_method"`
	Provider           string          `db:"provider"`
	PaymentIntent      string          `db:"payment_intent"`
	NextAction         *NextAction     `db:"next_action"`
	ProviderOrigin     string          `db:"provider_origin"` // of the next_action given at creation: see Transition.PinNextAction
	FailureReason      string          `db:"failure_reason"`
	FailureMessage     string          `db:"failure_message"`
	ParentID           string          `db:"parent_id"`
	RecoveryEnabled    bool            `db:"recovery_enabled"`
	Metadata           Metadata        `db:"metadata"`
	Attribution        Metadata        `db:"attribution"`
	Contract           RawJSON         `db:"contract"`
	Estimate           RawJSON         `db:"estimate"`
	IdempotencyKey     string          `db:"idempotency_key"`
	CorrelationID      string          `db:"correlation_id"`
	Created            int64           `db:"created"`
	Updated            int64           `db:"updated"`
	ExpiresAt          int64           `db:"expires_at"`
	ConfirmedAt        *int64          `db:"confirmed_at"`
	PaidAt             *int64          `db:"paid_at"`
	CompletedAt        *int64          `db:"completed_at"`
	CanceledAt         *int64          `db:"canceled_at"`
	ExpiredAt          *int64          `db:"expired_at"`
	LastActivityAt     int64           `db:"last_activity_at"`
	Version            int64           `db:"version"`

	// References of the merchant's own systems (seed 000's billing
	// platform, seed 002's front end), shown back as given.
	ContractID       string `db:"contract_id"`
	ExecutionID      string `db:"execution_id"`
	BusinessEntityID string `db:"business_entity_id"`
	ClientCustomerID string `db:"client_customer_id"`
	Description      string `db:"description"`
	// Stripe's choices of wording and collection: submit_type (auto, book,
	// donate, pay, subscribe), billing_address_collection (auto, required),
	// customer_creation (always, if_required); "" when not given.
	SubmitType               string `db:"submit_type"`
	BillingAddressCollection string `db:"billing_address_collection"`
	CustomerCreation         string `db:"customer_creation"`
	// SettledBy is the recovery child that paid for this expired session:
	// no page of it offers to pay again.
	SettledBy string `db:"settled_by"`

	// Loaded with the session by Get; not columns of checkout_sessions.
	LineItems   []LineItem   `db:"-"`
	Adjustments []Adjustment `db:"-"`
	Refunds     []Refund     `db:"-"`
}

// Customer is the snapshot of the shopper's details taken at creation.
type Customer struct {
	Email     string  `json:"email,omitempty"`
	FirstName string  `json:"first_name,omitempty"`
	LastName  string  `json:"last_name,omitempty"`
	Phone     string  `json:"phone,omitempty"`
	IPAddress string  `json:"ip_address,omitempty"`
	Address   Address `json:"address,omitzero"`
}

// Name is the customer's full name, or "".
func (c Customer) Name() string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// AfterCompletion says where a paid shopper goes: back to the merchant's
// success_url ("redirect") or nowhere, staying on the hosted receipt ("hosted").
type AfterCompletion struct {
	Type          string `json:"type,omitempty"`
	CustomMessage string `json:"custom_message,omitempty"`
}

// CustomText is merchant copy shown around the pay button (<= 1200 chars each).
type CustomText struct {
	Submit          string `json:"submit,omitempty"`
	AfterSubmit     string `json:"after_submit,omitempty"`
	ShippingAddress string `json:"shipping_address,omitempty"`
	TermsOfService  string `json:"terms_of_service_acceptance,omitempty"`
}

// NextAction is what the shopper must do to go on with the payment: follow
// a redirect, or complete 3-D Secure at RedirectURL.
type NextAction struct {
	Type           string   `json:"type"` // redirect_to_url | three_d_secure
	RedirectURL    string   `json:"redirect_url,omitempty"`
	AllowedOrigins []string `json:"allowed_origins,omitempty"` // may post messages to the page (3-D Secure frames)
	// ReturnURL is where the provider sends the shopper back afterwards.
	ReturnURL string `json:"return_url,omitempty"`
	// 3-D Secure: the flow (challenge or frictionless), where its status
	// can be polled, the card's scheme and protocol version, and the key
	// that makes its retries idempotent at the provider.
	Flow           string       `json:"flow,omitempty"`
	StatusURL      string       `json:"status_url,omitempty"`
	Hint           *ThreeDSHint `json:"hint,omitempty"`
	IdempotencyKey string       `json:"idempotency_key,omitempty"`
}

// ThreeDSHint says which card scheme and 3-D Secure version a challenge
// uses.
type ThreeDSHint struct {
	Scheme  string `json:"scheme,omitempty"`
	Version string `json:"version,omitempty"`
}

// WalletOption says whether a wallet button is shown ("auto" or "never").
type WalletOption struct {
	Display string `json:"display"`
}

// WalletOptions maps wallet name (apple_pay, google_pay, link) to its option.
type WalletOptions map[string]WalletOption

// LineItem is one thing the shopper pays for.
type LineItem struct {
	ID                     string     `db:"id"`
	SessionID              string     `db:"session_id"`
	Position               int        `db:"position"`
	Name                   string     `db:"name"`
	Description            string     `db:"description"`
	Images                 StringList `db:"images"`
	ProductID              string     `db:"product_id"`
	PriceID                string     `db:"price_id"`
	Quantity               int64      `db:"quantity"`
	UnitAmount             int64      `db:"unit_amount"`
	AmountSubtotal         int64      `db:"amount_subtotal"`
	AmountDiscount         int64      `db:"amount_discount"`
	AmountTax              int64      `db:"amount_tax"`
	AmountTotal            int64      `db:"amount_total"`
	RecurringInterval      string     `db:"recurring_interval"` // day | week | month | year, or ""
	RecurringIntervalCount int        `db:"recurring_interval_count"`
	Metadata               Metadata   `db:"metadata"`   // the line item's own
	UnitLabel              string     `db:"unit_label"` // the product's unit ("kg", "seat")
	LookupKey              string     `db:"lookup_key"` // the price's key in the merchant's catalogue
}

// Adjustment kinds: a charge or reduction on the whole session.
const (
	AdjustFee      = "fee"
	AdjustDiscount = "discount"
	AdjustTax      = "tax"
	AdjustShipping = "shipping"
)

// Adjustment is a fee, discount, tax or shipping charge on the whole session.
// Amount is positive; a discount is subtracted.
type Adjustment struct {
	SessionID string `db:"session_id"`
	Position  int    `db:"position"`
	Kind      string `db:"kind"`
	Label     string `db:"label"`
	Amount    int64  `db:"amount"`
}

// Refund statuses.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
	RefundCanceled  = "canceled"
)

// Refund is money given back on a paid session.
type Refund struct {
	ID            string `db:"id"`
	SessionID     string `db:"session_id"`
	Amount        int64  `db:"amount"`
	Currency      string `db:"currency"`
	Status        string `db:"status"`
	Reason        string `db:"reason"`
	FailureReason string `db:"failure_reason"`
	Created       int64  `db:"created"`
	Updated       int64  `db:"updated"`
}

// IsFinalStatus reports whether a session in status can no longer change
// status (refunds may still change a complete session's payment status).
func IsFinalStatus(status string) bool {
	return status == StatusComplete || status == StatusExpired || status == StatusCanceled
}

// Effective applies the clock to a session read from the database: an open
// session past expires_at is expired from that exact instant, whether or not
// the sweeper has persisted it yet.
func (s *Session) Effective(nowUnix int64) {
	if s.Status == StatusOpen && nowUnix >= s.ExpiresAt {
		s.Status = StatusExpired
		at := s.ExpiresAt
		s.ExpiredAt = &at
	}
}
