package dialect

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/paypage/paypage/store"
)

// Paypercut is seed 002's dialect, Paypercut's "Retrieve a Checkout
// Session": GET /v1/checkouts/{id}?expand=… with a Bearer secret key. The
// seed's example is Stripe's checkout session reshaped: currency as {iso,
// scale}, line items always inline with their price_data and product_data,
// after_completion and next_action (redirect, 3-D Secure) as objects. So
// its status words are Stripe's, mapped as the Stripe dialect maps them
// (stripeStates), and paypage's true state is in the member "paypage", as
// there; errors are Stripe's envelope.
//
// expand takes line_items (always inline: accepted, changes nothing) and
// customer (the customer's id becomes the snapshot taken at creation, as an
// object), as a repeated parameter, a comma list, or both. paypage holds no
// payment intent, setup intent or payment link objects (only the
// provider's payment intent id), so those cannot be expanded: a 400 says so.
//
// Where paypage has no value for a property the example shows as a string,
// it is "" (a line item's price and product ids, a 3-D Secure flow or status
// URL the provider did not give); submit_type, customer_creation and
// billing_address_collection not set at creation are what the hosted page
// then does: auto, if_required, auto.
var Paypercut = &Dialect{
	Name:       "paypercut",
	Session:    func(v *View) any { return paypercutSession(v) },
	Expandable: paypercutExpandable,
	Error:      StripeError,
	Route:      &Route{Options: paypercutOptions},
}

var paypercutExpandable = []string{"line_items", "customer"}

// paypercutOptions reads expand, repeated (expand=a&expand=b, or expand[]=
// as some clients send arrays) or as a comma list (expand=a,b); an empty
// value (the document's own curl sends expand=) asks for nothing.
func paypercutOptions(q url.Values) (Expand, error) {
	var e Expand
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name != "expand" && name != "expand[]" {
			return e, &store.Error{Code: store.EINVALID, Param: name, Reason: "parameter_unknown",
				Message: "Received unknown parameter: " + name}
		}
		for _, v := range q[name] {
			for field := range strings.SplitSeq(v, ",") {
				switch field = strings.TrimSpace(field); field {
				case "", "line_items":
				case "customer":
					e.Customer = true
				default:
					return e, store.Invalid("expand", "This property cannot be expanded (%s). Expandable: %s.",
						field, strings.Join(paypercutExpandable, ", "))
				}
			}
		}
	}
	return e, nil
}

type paypercutSessionObject struct {
	ID                        string                   `json:"id"`
	Currency                  paypercutCurrency        `json:"currency"`
	Description               *string                  `json:"description"`
	Mode                      string                   `json:"mode"`
	UIMode                    string                   `json:"ui_mode"`
	AmountTotal               int64                    `json:"amount_total"`
	URL                       string                   `json:"url"`
	CancelURL                 *string                  `json:"cancel_url"`
	SuccessURL                *string                  `json:"success_url"`
	ReturnURL                 *string                  `json:"return_url"`
	PaymentMethodTypes        []string                 `json:"payment_method_types"`
	SubmitType                string                   `json:"submit_type"`
	WalletOptions             *paypercutWallets        `json:"wallet_options"`
	ClientReferenceID         *string                  `json:"client_reference_id"`
	ClientCustomerID          *string                  `json:"client_customer_id"`
	ExpiresAt                 int64                    `json:"expires_at"`
	LineItems                 []paypercutLineItem      `json:"line_items"`
	SavedPaymentMethodOptions any                      `json:"saved_payment_method_options"` // paypage saves no payment methods: null
	Metadata                  store.Metadata           `json:"metadata"`
	AfterCompletion           paypercutAfterCompletion `json:"after_completion"`
	Locale                    *string                  `json:"locale"`
	Customer                  any                      `json:"customer"` // its id, the object when expanded, or null
	CustomerEmail             *string                  `json:"customer_email"`
	CustomerCreation          string                   `json:"customer_creation"`
	PaymentIntent             *string                  `json:"payment_intent"`
	SetupIntent               *string                  `json:"setup_intent"`
	PaymentLink               *string                  `json:"payment_link"`
	PaymentStatus             string                   `json:"payment_status"`
	Status                    string                   `json:"status"`
	NextAction                *paypercutNextAction     `json:"next_action"`
	Livemode                  bool                     `json:"livemode"`
	BillingAddressCollection  string                   `json:"billing_address_collection"`
	Paypage                   stripePaypageObject      `json:"paypage"`
}

// paypercutCurrency is a currency and its exponent (minor units per major
// unit: 2 for EUR, 0 for JPY).
type paypercutCurrency struct {
	ISO   string `json:"iso"`
	Scale int    `json:"scale"`
}

type paypercutWallets struct {
	ApplePay  *store.WalletOption `json:"apple_pay"`
	GooglePay *store.WalletOption `json:"google_pay"`
	Link      *store.WalletOption `json:"link,omitempty"`
}

type paypercutLineItem struct {
	Quantity  int64          `json:"quantity"`
	PriceData paypercutPrice `json:"price_data"`
	Metadata  store.Metadata `json:"metadata"`
}

type paypercutPrice struct {
	Active            bool                `json:"active"`
	BillingScheme     string              `json:"billing_scheme"`
	Created           int64               `json:"created"`
	Currency          string              `json:"currency"`
	Livemode          bool                `json:"livemode"`
	LookupKey         *string             `json:"lookup_key"`
	Product           string              `json:"product"`
	ProductData       paypercutProduct    `json:"product_data"`
	Recurring         *paypercutRecurring `json:"recurring"`
	Type              string              `json:"type"`
	UnitAmount        int64               `json:"unit_amount"`
	UnitAmountDecimal string              `json:"unit_amount_decimal"`
	ID                string              `json:"id"`
}

type paypercutProduct struct {
	Active      bool    `json:"active"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	UnitLabel   *string `json:"unit_label"`
	ID          string  `json:"id"`
}

type paypercutRecurring struct {
	Interval      string  `json:"interval"`
	IntervalCount int     `json:"interval_count"`
	Meter         *string `json:"meter"` // paypage has no metered prices
	UsageType     string  `json:"usage_type"`
}

type paypercutAfterCompletion struct {
	Type     string             `json:"type"`
	Redirect *paypercutRedirect `json:"redirect"`
	Hosted   *paypercutHosted   `json:"hosted"`
}

type paypercutRedirect struct {
	URL string `json:"url"`
}

type paypercutHosted struct {
	CustomMessage *string `json:"custom_message"`
}

type paypercutNextAction struct {
	RedirectToURL *paypercutRedirectToURL `json:"redirect_to_url"`
	Type          string                  `json:"type"`
	ThreeDSecure  *paypercutThreeDSecure  `json:"three_d_secure"`
}

type paypercutRedirectToURL struct {
	ReturnURL *string `json:"return_url"`
	URL       *string `json:"url"`
}

type paypercutThreeDSecure struct {
	Flow           string            `json:"flow"`
	StatusURL      string            `json:"status_url"`
	ReturnURL      *string           `json:"return_url"`
	Message        *paypercutMessage `json:"message"`
	Hint           *paypercutHint    `json:"hint"`
	IdempotencyKey *string           `json:"idempotency_key"`
}

// paypercutHint is store.ThreeDSHint with both members always sent.
type paypercutHint struct {
	Scheme  string `json:"scheme"`
	Version string `json:"version"`
}

type paypercutMessage struct {
	AllowedOrigins []string `json:"allowed_origins"`
}

// paypercutCustomerObject is an expanded customer: the snapshot of the
// shopper's details taken when the session was created.
type paypercutCustomerObject struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Email   *string        `json:"email"`
	Name    *string        `json:"name"`
	Phone   *string        `json:"phone"`
	Address *addressObject `json:"address"`
}

func paypercutSession(v *View) *paypercutSessionObject {
	s := v.Session
	status, payment := stripeStates(s)
	scale, _ := store.CurrencyExponent(s.Currency)
	o := &paypercutSessionObject{
		ID: s.ID, Currency: paypercutCurrency{ISO: s.Currency, Scale: scale}, Description: Nullable(s.Description),
		Mode: s.Mode, UIMode: "hosted", AmountTotal: s.AmountTotal, URL: v.PageURL(),
		CancelURL: Nullable(s.CancelURL), SuccessURL: Nullable(s.SuccessURL), ReturnURL: Nullable(s.ReturnURL),
		PaymentMethodTypes: s.PaymentMethodTypes, SubmitType: orDefault(s.SubmitType, "auto"),
		WalletOptions:     paypercutWalletOptions(s.WalletOptions),
		ClientReferenceID: Nullable(s.ClientReferenceID), ClientCustomerID: Nullable(s.ClientCustomerID),
		ExpiresAt: s.ExpiresAt, LineItems: make([]paypercutLineItem, 0, len(s.LineItems)),
		Metadata: OrEmpty(s.Metadata), AfterCompletion: paypercutAfter(s), Locale: Nullable(s.Locale),
		CustomerEmail: Nullable(s.Customer.Email), CustomerCreation: orDefault(s.CustomerCreation, "if_required"),
		PaymentIntent: Nullable(s.PaymentIntent), PaymentStatus: payment, Status: status,
		NextAction: paypercutNext(s.NextAction), Livemode: s.Livemode,
		BillingAddressCollection: orDefault(s.BillingAddressCollection, "auto"),
		Paypage: stripePaypageObject{
			Status: s.Status, PaymentStatus: s.PaymentStatus, Version: s.Version, Locale: s.Locale,
			AmountRefunded: s.AmountRefunded, Fees: fees(s), FailureReason: Nullable(s.FailureReason),
			FailureMessage: Nullable(s.FailureMessage), Provider: Nullable(s.Provider),
			PaymentMethod: Nullable(s.PaymentMethod), PendingURL: Nullable(s.PendingURL),
			SettledBy: Nullable(s.SettledBy),
		},
	}
	if o.PaymentMethodTypes == nil {
		o.PaymentMethodTypes = []string{}
	}
	for _, li := range s.LineItems {
		o.LineItems = append(o.LineItems, paypercutItem(s, li))
	}
	switch {
	case s.CustomerID == "":
	case v.Expand.Customer:
		c := s.Customer
		o.Customer = &paypercutCustomerObject{ID: s.CustomerID, Object: "customer", Email: Nullable(c.Email),
			Name: Nullable(c.Name()), Phone: Nullable(c.Phone), Address: address(c.Address)}
	default:
		o.Customer = s.CustomerID
	}
	return o
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// paypercutWalletOptions is the session's wallet settings; null when it
// has none.
func paypercutWalletOptions(w store.WalletOptions) *paypercutWallets {
	if len(w) == 0 {
		return nil
	}
	pick := func(name string) *store.WalletOption {
		if opt, ok := w[name]; ok {
			return &opt
		}
		return nil
	}
	return &paypercutWallets{ApplePay: pick("apple_pay"), GooglePay: pick("google_pay"), Link: pick("link")}
}

// paypercutAfter says where a paid shopper goes: redirect (to success_url;
// redirect is null when there is none and the shopper stays on the receipt)
// or hosted (the receipt, with the merchant's message).
func paypercutAfter(s *store.Session) paypercutAfterCompletion {
	a := paypercutAfterCompletion{Type: s.AfterCompletion.Type}
	switch {
	case a.Type == "hosted":
		a.Hosted = &paypercutHosted{CustomMessage: Nullable(s.AfterCompletion.CustomMessage)}
	case s.SuccessURL != "":
		a.Redirect = &paypercutRedirect{URL: s.SuccessURL}
	}
	return a
}

// paypercutNext is what the shopper must do next. A 3-D Secure challenge
// has both members, as the document's example does: redirect_to_url is
// where the shopper goes for it, three_d_secure the challenge's details.
func paypercutNext(na *store.NextAction) *paypercutNextAction {
	if na == nil || na.Type == "" {
		return nil
	}
	o := &paypercutNextAction{Type: na.Type,
		RedirectToURL: &paypercutRedirectToURL{URL: Nullable(na.RedirectURL), ReturnURL: Nullable(na.ReturnURL)}}
	if na.Type == "three_d_secure" {
		o.ThreeDSecure = &paypercutThreeDSecure{Flow: na.Flow, StatusURL: na.StatusURL, ReturnURL: Nullable(na.ReturnURL),
			IdempotencyKey: Nullable(na.IdempotencyKey)}
		if na.Hint != nil {
			o.ThreeDSecure.Hint = &paypercutHint{Scheme: na.Hint.Scheme, Version: na.Hint.Version}
		}
		if len(na.AllowedOrigins) > 0 {
			o.ThreeDSecure.Message = &paypercutMessage{AllowedOrigins: na.AllowedOrigins}
		}
	}
	return o
}

func paypercutItem(s *store.Session, li store.LineItem) paypercutLineItem {
	p := paypercutPrice{
		Active: true, BillingScheme: "per_unit", Created: s.Created, Currency: s.Currency, Livemode: s.Livemode,
		LookupKey: Nullable(li.LookupKey), Product: li.ProductID, Type: "one_time",
		ProductData: paypercutProduct{Active: true, Name: li.Name, Description: Nullable(li.Description),
			UnitLabel: Nullable(li.UnitLabel), ID: li.ProductID},
		UnitAmount: li.UnitAmount, UnitAmountDecimal: strconv.FormatInt(li.UnitAmount, 10), ID: li.PriceID,
	}
	if li.RecurringInterval != "" {
		p.Type = "recurring"
		p.Recurring = &paypercutRecurring{Interval: li.RecurringInterval, IntervalCount: li.RecurringIntervalCount, UsageType: "licensed"}
	}
	return paypercutLineItem{Quantity: li.Quantity, PriceData: p, Metadata: OrEmpty(li.Metadata)}
}
