package dialect

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/paypage/paypage/store"
)

// Gateway is seed 004's dialect, the generic gateway's "Get checkout
// session": GET /api/v1/sessions/{id} with a Bearer token (the secret key).
// camelCase names, upper-case words, ISO 8601 times in UTC with
// milliseconds, refunds with amounts in major units, and errors as
// {"error", "message", "code", "requestId"} (unknown paths under /api/
// too).
//
// Status words, where the seed's are fewer than paypage's states:
//   - open and processing are PENDING; a declined attempt is FAILED with
//     its reason (the shopper may still retry: a later success reads
//     SUCCEEDED);
//   - complete is SUCCEEDED, then PARTIALLY_REFUNDED, REFUNDED or REVERSED;
//   - expired is FAILED with failureReason EXPIRED, canceled FAILED with
//     CANCELED.
//
// refunds is null unless the session was paid.
var Gateway = &Dialect{
	Name:    "gateway",
	Session: func(v *View) any { return gatewaySession(v.Session) },
	Error:   gatewayError,
	Route:   &Route{},
}

type gatewaySessionObject struct {
	ID             string                `json:"id"`
	OrderReference string                `json:"orderReference"`
	Status         string                `json:"status"`
	FailureReason  *string               `json:"failureReason"`
	ProviderName   *string               `json:"providerName"`
	PaymentMethod  string                `json:"paymentMethod"`
	ExpiresAt      string                `json:"expiresAt"`
	CreatedAt      string                `json:"createdAt"`
	UpdatedAt      string                `json:"updatedAt"`
	Refunds        []gatewayRefundObject `json:"refunds"`
}

type gatewayRefundObject struct {
	ID            string      `json:"id"`
	Amount        json.Number `json:"amount"` // major units, exact
	Currency      string      `json:"currency"`
	Status        string      `json:"status"`
	FailureReason *string     `json:"failureReason"`
	Reason        *string     `json:"reason"`
	CreatedAt     string      `json:"createdAt"`
	UpdatedAt     string      `json:"updatedAt"`
}

func gatewaySession(s *store.Session) *gatewaySessionObject {
	o := &gatewaySessionObject{
		ID: s.ID, OrderReference: s.ClientReferenceID, Status: "PENDING",
		ProviderName: Nullable(s.Provider), PaymentMethod: s.PaymentMethod,
		ExpiresAt: isoMillis(s.ExpiresAt), CreatedAt: isoMillis(s.Created), UpdatedAt: isoMillis(s.Updated),
	}
	reason := ""
	switch s.Status {
	case store.StatusOpen:
		if s.PaymentStatus == store.PaymentFailed {
			o.Status, reason = "FAILED", s.FailureReason
		}
	case store.StatusComplete:
		o.Status = map[string]string{store.PaymentPartiallyRefunded: "PARTIALLY_REFUNDED",
			store.PaymentRefunded: "REFUNDED", store.PaymentReversed: "REVERSED"}[s.PaymentStatus]
		if o.Status == "" {
			o.Status = "SUCCEEDED"
		}
		if s.PaymentStatus == store.PaymentReversed {
			reason = s.FailureReason
		}
		o.Refunds = make([]gatewayRefundObject, 0, len(s.Refunds))
		for _, r := range s.Refunds {
			o.Refunds = append(o.Refunds, gatewayRefund(r))
		}
	case store.StatusExpired:
		o.Status, reason = "FAILED", "expired"
	case store.StatusCanceled:
		o.Status, reason = "FAILED", "canceled"
	}
	o.FailureReason = Nullable(upperSnake(reason))
	return o
}

func gatewayRefund(r store.Refund) gatewayRefundObject {
	return gatewayRefundObject{
		ID: r.ID, Amount: MajorUnits(r.Amount, r.Currency), Currency: strings.ToUpper(r.Currency),
		Status: strings.ToUpper(r.Status), FailureReason: Nullable(upperSnake(r.FailureReason)),
		Reason: Nullable(upperSnake(r.Reason)), CreatedAt: isoMillis(r.Created), UpdatedAt: isoMillis(max(r.Updated, r.Created)),
	}
}

// MajorUnits writes an amount in minor units as the exact decimal number of
// major units of its currency (4501 EUR cents: 45.01; JPY 4501: 4501).
func MajorUnits(amount int64, currency string) json.Number {
	exp, _ := store.CurrencyExponent(currency)
	if exp == 0 {
		return json.Number(strconv.FormatInt(amount, 10))
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	digits := strconv.FormatInt(amount, 10)
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	return json.Number(sign + digits[:len(digits)-exp] + "." + digits[len(digits)-exp:])
}

// upperSnake writes a code as the gateway does: card_declined → CARD_DECLINED.
func upperSnake(code string) string { return strings.ToUpper(code) }

type gatewayErrorObject struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	Code      int    `json:"code"`
	RequestID string `json:"requestId,omitempty"`
}

// gatewayError is the gateway's error body: the status's name, a message,
// the status again, and the request id.
func gatewayError(e Error) any {
	name := http.StatusText(e.Status)
	if e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout {
		name = "Error" // as the seed names them
	}
	return gatewayErrorObject{Error: name, Message: e.Message, Code: e.Status, RequestID: e.RequestID}
}
