package dialect

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/paypage/paypage/store"
)

// Billing is seed 000's dialect, the billing platform's "Get checkout
// session by ID": GET /checkout/{checkout_session_id} with the secret key in
// x-api-key and the merchant's id in organisation (another merchant's key is
// refused, 403). snake_case names as the seed lists them, ISO 8601 times
// (UTC, whole seconds, "Z"), upper-case currencies, the contract and
// estimate documents the merchant attached, the customer snapshot, and
// errors as {"detail", "code", "param", "request_id"}.
//
// Status words (billingStates): open (also after a declined attempt, with
// payment_status failed: the shopper may retry), processing, completed
// (refunds and chargebacks do not reopen it), closed (expired) and
// cancelled. The seed's document names no property for its "UTM and
// attribution data": it is attribution, as in paypage's own dialect. An
// expired session paid through its recovery stays closed (it took no
// payment itself) and names the paying session in settled_by.
var Billing = &Dialect{
	Name:    "billing",
	Session: func(v *View) any { return billingSession(v.Session) },
	Error:   billingError,
	Route:   &Route{KeyHeader: "x-api-key", MerchantHeader: "organisation"},
}

type billingSessionObject struct {
	ID                    string           `json:"id"`
	CheckoutSessionStatus string           `json:"checkout_session_status"`
	PaymentStatus         string           `json:"payment_status"`
	Contract              json.RawMessage  `json:"contract"`
	GuestCheckout         bool             `json:"guest_checkout"`
	ContractID            *string          `json:"contract_id"`
	ExecutionID           *string          `json:"execution_id"`
	ConfirmedAt           *string          `json:"confirmed_at"`
	PaidAt                *string          `json:"paid_at"`
	PaymentIntentID       *string          `json:"payment_intent_id"`
	Estimates             json.RawMessage  `json:"estimates"`
	CustomerID            *string          `json:"customer_id"`
	BusinessEntityID      *string          `json:"business_entity_id"`
	CustomerData          *customerDetails `json:"customer_data"`
	ExpiresAt             string           `json:"expires_at"`
	LastActivityAt        string           `json:"last_activity_at"`
	CompletedAt           *string          `json:"completed_at"`
	CreatedAt             string           `json:"created_at"`
	UpdatedAt             string           `json:"updated_at"`
	IdempotencyKey        *string          `json:"idempotency_key"`
	CorrelationID         *string          `json:"correlation_id"`
	Currency              string           `json:"currency"`
	DisplayCurrency       *string          `json:"display_currency"`
	SuccessURL            *string          `json:"success_url"`
	CancelURL             *string          `json:"cancel_url"`
	PendingURL            *string          `json:"pending_url"`
	Attribution           store.Metadata   `json:"attribution"`
	Metadata              store.Metadata   `json:"metadata"`
	// SettledBy is the recovery session that paid for this expired one.
	SettledBy *string `json:"settled_by"`
}

func billingSession(s *store.Session) *billingSessionObject {
	status, payment := billingStates(s)
	return &billingSessionObject{
		ID: s.ID, CheckoutSessionStatus: status, PaymentStatus: payment,
		Contract: billingContract(s.Contract), GuestCheckout: s.Guest,
		ContractID: Nullable(s.ContractID), ExecutionID: Nullable(s.ExecutionID),
		ConfirmedAt: isoSecondsOrNull(s.ConfirmedAt), PaidAt: isoSecondsOrNull(s.PaidAt),
		PaymentIntentID: Nullable(s.PaymentIntent), Estimates: billingEstimates(s.Estimate),
		CustomerID: Nullable(s.CustomerID), BusinessEntityID: Nullable(s.BusinessEntityID),
		CustomerData: details(s.Customer),
		ExpiresAt:    isoSeconds(s.ExpiresAt), LastActivityAt: isoSeconds(s.LastActivityAt),
		CompletedAt: isoSecondsOrNull(s.CompletedAt), CreatedAt: isoSeconds(s.Created), UpdatedAt: isoSeconds(s.Updated),
		IdempotencyKey: Nullable(s.IdempotencyKey), CorrelationID: Nullable(s.CorrelationID),
		Currency: strings.ToUpper(s.Currency), DisplayCurrency: Nullable(strings.ToUpper(s.DisplayCurrency)),
		SuccessURL: Nullable(s.SuccessURL), CancelURL: Nullable(s.CancelURL), PendingURL: Nullable(s.PendingURL),
		Attribution: OrEmpty(s.Attribution), Metadata: OrEmpty(s.Metadata), SettledBy: Nullable(s.SettledBy),
	}
}

// billingStates maps a session's state onto the billing platform's
// checkout_session_status and payment_status:
//   - a declined attempt leaves the session open with payment failed (the
//     shopper may retry until it expires);
//   - completed stays completed: a refund is money given back on a payment
//     that was received (paid), a chargeback takes the payment back
//     (failed: the invoice is no longer settled);
//   - expired is closed, canceled cancelled; their payment_status says
//     whether an attempt was made: not_started if none, failed if one was
//     declined, or voided by the cancellation.
func billingStates(s *store.Session) (status, payment string) {
	status = map[string]string{store.StatusOpen: "open", store.StatusProcessing: "processing",
		store.StatusComplete: "completed", store.StatusExpired: "closed", store.StatusCanceled: "cancelled"}[s.Status]
	switch s.PaymentStatus {
	case store.PaymentPending:
		payment = "pending"
	case store.PaymentPaid, store.PaymentPartiallyRefunded, store.PaymentRefunded:
		payment = "paid"
	case store.PaymentFailed, store.PaymentReversed:
		payment = "failed"
	case store.PaymentNoPaymentRequired:
		payment = "no_payment_required"
	default: // unpaid
		payment = "not_started"
		if s.Status == store.StatusCanceled && s.ConfirmedAt != nil {
			payment = "failed" // the provider voided the attempt under way
		}
	}
	return status, payment
}

// billingContract is the contract document the merchant attached, which
// the seed makes an object: {} when there is none (or it is not an object;
// the native dialect returns it as given).
func billingContract(doc store.RawJSON) json.RawMessage {
	if b := bytes.TrimSpace(doc); len(b) > 0 && b[0] == '{' {
		return json.RawMessage(b)
	}
	return json.RawMessage("{}")
}

// billingEstimateMembers are the members of the seed's
// EstimationResponseSchema.
var billingEstimateMembers = []string{"estimation_id", "current_invoice", "future_invoices", "amount_due", "credit_notes"}

// billingEstimates is the estimate document the merchant attached, with the
// schema's members it lacks as null; null when there is none (or it is not
// an object).
func billingEstimates(doc store.RawJSON) json.RawMessage {
	var members map[string]json.RawMessage
	if b := bytes.TrimSpace(doc); len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &members) != nil {
		return json.RawMessage("null")
	}
	complete := true
	for _, m := range billingEstimateMembers {
		if _, ok := members[m]; !ok {
			members[m], complete = json.RawMessage("null"), false
		}
	}
	if complete {
		return json.RawMessage(bytes.TrimSpace(doc))
	}
	b, err := json.Marshal(members)
	if err != nil { // cannot happen: every member is valid JSON
		return json.RawMessage("null")
	}
	return b
}

func isoSecondsOrNull(unix *int64) *string {
	if unix == nil {
		return nil
	}
	s := isoSeconds(*unix)
	return &s
}

type billingErrorObject struct {
	Detail    string `json:"detail"`
	Code      string `json:"code,omitempty"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// billingError is the billing platform's error body. The seed describes
// none; detail is where its clients' frameworks look for the message.
func billingError(e Error) any {
	return billingErrorObject{Detail: e.Message, Code: e.Code, Param: e.Param, RequestID: e.RequestID}
}
