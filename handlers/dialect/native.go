package dialect

import (
	"strconv"

	"github.com/paypage/paypage/store"
)

// Native is paypage's own dialect (store.APIVersionNative): Stripe's field
// names wherever Stripe has the concept, so that Stripe's clients decode
// what they know, and everything paypage knows beside them — its own status
// words (processing, canceled, failed, refunded…), fees, currency exponent,
// failure reason, attribution, version. Absent optional values are null.
// docs/openapi.json describes every field (CheckoutSession).
var Native = &Dialect{
	Name:           "native",
	Session:        func(v *View) any { return nativeSession(v) },
	LineItem:       func(v *View, li store.LineItem) any { return nativeLineItem(v.Session, li) },
	Expandable:     []string{"line_items", "appearance", "refunds", "child_sessions", "contract", "estimate"},
	ItemExpandable: []string{"data.price", "data.price.product"}, // always included
	Error:          StripeError,
}

// nativeSessionObject is a "checkout.session" in the native dialect.
type nativeSessionObject struct {
	ID                 string                `json:"id"`
	Object             string                `json:"object"`
	Livemode           bool                  `json:"livemode"`
	Mode               string                `json:"mode"`
	UIMode             string                `json:"ui_mode"`
	Status             string                `json:"status"`
	PaymentStatus      string                `json:"payment_status"`
	Currency           string                `json:"currency"`
	CurrencyExponent   int                   `json:"currency_exponent"`
	DisplayCurrency    *string               `json:"display_currency"`
	AmountSubtotal     int64                 `json:"amount_subtotal"`
	AmountTotal        int64                 `json:"amount_total"`
	AmountRefunded     int64                 `json:"amount_refunded"`
	TotalDetails       totalDetails          `json:"total_details"`
	Fees               []feeObject           `json:"fees"`
	Customer           *string               `json:"customer"`
	CustomerEmail      *string               `json:"customer_email"`
	CustomerDetails    *customerDetails      `json:"customer_details"`
	Guest              bool                  `json:"guest"`
	ClientReferenceID  *string               `json:"client_reference_id"`
	URL                string                `json:"url"`
	SuccessURL         *string               `json:"success_url"`
	CancelURL          *string               `json:"cancel_url"`
	PendingURL         *string               `json:"pending_url"`
	ReturnURL          *string               `json:"return_url"`
	AfterCompletion    afterCompletionObject `json:"after_completion"`
	AfterExpiration    afterExpirationObject `json:"after_expiration"`
	RecoveredFrom      *string               `json:"recovered_from"`
	Locale             string                `json:"locale"`
	CustomText         customTextObject      `json:"custom_text"`
	PaymentMethodTypes []string              `json:"payment_method_types"`
	WalletOptions      store.WalletOptions   `json:"wallet_options"`
	PaymentMethod      *string               `json:"payment_method"`
	Provider           *string               `json:"provider"`
	PaymentIntent      *string               `json:"payment_intent"`
	NextAction         *nextActionObject     `json:"next_action"`
	FailureReason      *string               `json:"failure_reason"`
	FailureMessage     *string               `json:"failure_message"`
	Metadata           store.Metadata        `json:"metadata"`
	Attribution        store.Metadata        `json:"attribution"`
	IdempotencyKey     *string               `json:"idempotency_key"`
	CorrelationID      *string               `json:"correlation_id"`
	Created            int64                 `json:"created"`
	Updated            int64                 `json:"updated"`
	ExpiresAt          int64                 `json:"expires_at"`
	ConfirmedAt        *int64                `json:"confirmed_at"`
	PaidAt             *int64                `json:"paid_at"`
	CompletedAt        *int64                `json:"completed_at"`
	CanceledAt         *int64                `json:"canceled_at"`
	ExpiredAt          *int64                `json:"expired_at"`
	LastActivityAt     int64                 `json:"last_activity_at"`
	Version            int64                 `json:"version"`
	// SettledBy is the recovery session that paid for this expired one.
	SettledBy                *string `json:"settled_by"`
	SubmitType               *string `json:"submit_type"`
	BillingAddressCollection *string `json:"billing_address_collection"`
	CustomerCreation         *string `json:"customer_creation"`
	Description              *string `json:"description"`
	ContractID               *string `json:"contract_id"`
	ExecutionID              *string `json:"execution_id"`
	BusinessEntityID         *string `json:"business_entity_id"`
	ClientCustomerID         *string `json:"client_customer_id"`

	// Present only when asked for with expand[].
	LineItems     *List[nativeLineItemObject] `json:"line_items,omitempty"`
	Appearance    *store.Appearance           `json:"appearance,omitempty"`
	Refunds       *List[refundObject]         `json:"refunds,omitempty"`
	ChildSessions *List[*nativeSessionObject] `json:"child_sessions,omitempty"`
	Contract      *store.RawJSON              `json:"contract,omitempty"`
	Estimate      *store.RawJSON              `json:"estimate,omitempty"`
}

type totalDetails struct {
	AmountDiscount int64 `json:"amount_discount"`
	AmountShipping int64 `json:"amount_shipping"`
	AmountTax      int64 `json:"amount_tax"`
}

// feeObject is one fee, discount, tax or shipping charge on the whole session.
type feeObject struct {
	Type   string `json:"type"`
	Label  string `json:"label"`
	Amount int64  `json:"amount"`
}

type customerDetails struct {
	Email     *string        `json:"email"`
	Name      *string        `json:"name"`
	FirstName *string        `json:"first_name"`
	LastName  *string        `json:"last_name"`
	Phone     *string        `json:"phone"`
	IPAddress *string        `json:"ip_address"`
	Address   *addressObject `json:"address"`
}

type addressObject struct {
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	City       *string `json:"city"`
	State      *string `json:"state"`
	PostalCode *string `json:"postal_code"`
	Country    *string `json:"country"`
}

type afterCompletionObject struct {
	Type          string  `json:"type"`
	CustomMessage *string `json:"custom_message"`
}

type afterExpirationObject struct {
	Recovery struct {
		Enabled bool `json:"enabled"`
	} `json:"recovery"`
}

// customTextObject is Stripe's custom_text, taken at creation and returned.
type customTextObject struct {
	AfterSubmit              *TextMessage `json:"after_submit"`
	ShippingAddress          *TextMessage `json:"shipping_address"`
	Submit                   *TextMessage `json:"submit"`
	TermsOfServiceAcceptance *TextMessage `json:"terms_of_service_acceptance"`
}

// TextMessage is one custom_text position, in and out.
type TextMessage struct {
	Message string `json:"message"`
}

// nextActionObject is what the shopper must do next: follow a redirect, or
// complete 3-D Secure (whose frames may post messages from allowed_origins).
type nextActionObject struct {
	Type          string        `json:"type"` // redirect_to_url | three_d_secure
	RedirectToURL *redirectStep `json:"redirect_to_url"`
	ThreeDSecure  *threeDSStep  `json:"three_d_secure"`
}

type redirectStep struct {
	URL       string  `json:"url"`
	ReturnURL *string `json:"return_url"`
}

type threeDSStep struct {
	URL            string             `json:"url"`
	AllowedOrigins []string           `json:"allowed_origins"`
	Flow           *string            `json:"flow"`
	StatusURL      *string            `json:"status_url"`
	ReturnURL      *string            `json:"return_url"`
	Hint           *store.ThreeDSHint `json:"hint"`
	IdempotencyKey *string            `json:"idempotency_key"`
}

// nativeLineItemObject is a Stripe "item": a line item with its inline price
// and its product as an object.
type nativeLineItemObject struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	AmountDiscount int64             `json:"amount_discount"`
	AmountSubtotal int64             `json:"amount_subtotal"`
	AmountTax      int64             `json:"amount_tax"`
	AmountTotal    int64             `json:"amount_total"`
	Currency       string            `json:"currency"`
	Description    string            `json:"description"` // the product name, as Stripe has it
	Quantity       int64             `json:"quantity"`
	Price          nativePriceObject `json:"price"`
	Metadata       store.Metadata    `json:"metadata"`
}

type nativePriceObject struct {
	ID                *string             `json:"id"`
	Object            string              `json:"object"`
	Active            bool                `json:"active"`
	BillingScheme     string              `json:"billing_scheme"`
	Created           int64               `json:"created"`
	Currency          string              `json:"currency"`
	Livemode          bool                `json:"livemode"`
	Product           nativeProductObject `json:"product"`
	Recurring         *recurringObject    `json:"recurring"`
	TaxBehavior       string              `json:"tax_behavior"`
	Type              string              `json:"type"`
	UnitAmount        int64               `json:"unit_amount"`
	UnitAmountDecimal string              `json:"unit_amount_decimal"`
	LookupKey         *string             `json:"lookup_key"`
}

type nativeProductObject struct {
	ID          *string  `json:"id"`
	Object      string   `json:"object"`
	Active      bool     `json:"active"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	Images      []string `json:"images"`
	UnitLabel   *string  `json:"unit_label"`
}

type recurringObject struct {
	Interval      string `json:"interval"`
	IntervalCount int    `json:"interval_count"`
	UsageType     string `json:"usage_type"`
}

type refundObject struct {
	ID              string  `json:"id"`
	Object          string  `json:"object"`
	Amount          int64   `json:"amount"`
	Currency        string  `json:"currency"`
	Status          string  `json:"status"`
	Reason          *string `json:"reason"`
	FailureReason   *string `json:"failure_reason"`
	CheckoutSession string  `json:"checkout_session"`
	Created         int64   `json:"created"`
	Updated         int64   `json:"updated"`
}

// nativeSession renders v's session with the parts v.Expand asks for.
func nativeSession(v *View) *nativeSessionObject {
	s := v.Session
	o := nativeBody(v)
	if v.Expand.LineItems {
		items := make([]nativeLineItemObject, 0, len(s.LineItems))
		for _, li := range s.LineItems {
			items = append(items, nativeLineItem(s, li))
		}
		o.LineItems = NewList("/v1/checkout/sessions/"+s.ID+"/line_items", items, false)
	}
	if v.Expand.Appearance {
		a := SessionAppearance(v.Merchant, s)
		o.Appearance = &a
	}
	if v.Expand.Refunds {
		refunds := make([]refundObject, 0, len(s.Refunds))
		for _, r := range s.Refunds {
			refunds = append(refunds, refund(r))
		}
		o.Refunds = NewList("/v1/checkout/sessions/"+s.ID, refunds, false)
	}
	if v.Expand.ChildSessions {
		children := make([]*nativeSessionObject, 0, len(v.Children))
		for _, c := range v.Children {
			children = append(children, nativeSession(v.child(c)))
		}
		o.ChildSessions = NewList("/v1/checkout/sessions?recovered_from="+s.ID, children, v.ChildrenMore)
	}
	if v.Expand.Contract {
		o.Contract = &s.Contract
	}
	if v.Expand.Estimate {
		o.Estimate = &s.Estimate
	}
	return o
}

// SessionAppearance is the branding a session's pages show: the merchant's,
// with the session's overrides and the merchant's display name by default.
func SessionAppearance(m *store.Merchant, s *store.Session) store.Appearance {
	a := m.Appearance.Merge(s.Appearance)
	if a.DisplayName == "" {
		a.DisplayName = m.DisplayName
	}
	return a
}

// nativeBody renders a session without its expandable parts.
func nativeBody(v *View) *nativeSessionObject {
	s := v.Session
	exp, _ := store.CurrencyExponent(s.Currency)
	o := &nativeSessionObject{
		ID: s.ID, Object: "checkout.session", Livemode: s.Livemode, Mode: s.Mode, UIMode: "hosted",
		Status: s.Status, PaymentStatus: s.PaymentStatus, Currency: s.Currency, CurrencyExponent: exp,
		DisplayCurrency: Nullable(s.DisplayCurrency), AmountSubtotal: s.AmountSubtotal, AmountTotal: s.AmountTotal,
		AmountRefunded: s.AmountRefunded,
		TotalDetails:   totalDetails{AmountDiscount: s.AmountDiscount, AmountShipping: s.AmountShipping, AmountTax: s.AmountTax},
		Fees:           fees(s),
		Customer:       Nullable(s.CustomerID), CustomerEmail: Nullable(s.Customer.Email),
		CustomerDetails: details(s.Customer), Guest: s.Guest, ClientReferenceID: Nullable(s.ClientReferenceID),
		URL:        v.PageURL(),
		SuccessURL: Nullable(s.SuccessURL), CancelURL: Nullable(s.CancelURL), PendingURL: Nullable(s.PendingURL),
		ReturnURL:       Nullable(s.ReturnURL),
		AfterCompletion: afterCompletionObject{Type: s.AfterCompletion.Type, CustomMessage: Nullable(s.AfterCompletion.CustomMessage)},
		RecoveredFrom:   Nullable(s.ParentID), Locale: s.Locale,
		CustomText:         customText(s.CustomText),
		PaymentMethodTypes: s.PaymentMethodTypes, WalletOptions: s.WalletOptions,
		PaymentMethod: Nullable(s.PaymentMethod), Provider: Nullable(s.Provider), PaymentIntent: Nullable(s.PaymentIntent),
		NextAction:    nextAction(s.NextAction),
		FailureReason: Nullable(s.FailureReason), FailureMessage: Nullable(s.FailureMessage),
		Metadata: OrEmpty(s.Metadata), Attribution: OrEmpty(s.Attribution),
		IdempotencyKey: Nullable(s.IdempotencyKey), CorrelationID: Nullable(s.CorrelationID),
		Created: s.Created, Updated: s.Updated, ExpiresAt: s.ExpiresAt, ConfirmedAt: s.ConfirmedAt,
		PaidAt: s.PaidAt, CompletedAt: s.CompletedAt, CanceledAt: s.CanceledAt, ExpiredAt: s.ExpiredAt,
		LastActivityAt: s.LastActivityAt, Version: s.Version, SettledBy: Nullable(s.SettledBy),
		SubmitType: Nullable(s.SubmitType), BillingAddressCollection: Nullable(s.BillingAddressCollection),
		CustomerCreation: Nullable(s.CustomerCreation), Description: Nullable(s.Description),
		ContractID: Nullable(s.ContractID), ExecutionID: Nullable(s.ExecutionID),
		BusinessEntityID: Nullable(s.BusinessEntityID), ClientCustomerID: Nullable(s.ClientCustomerID),
	}
	o.AfterExpiration.Recovery.Enabled = s.RecoveryEnabled
	if o.PaymentMethodTypes == nil {
		o.PaymentMethodTypes = []string{}
	}
	if o.WalletOptions == nil {
		o.WalletOptions = store.WalletOptions{}
	}
	return o
}

func fees(s *store.Session) []feeObject {
	out := make([]feeObject, 0, len(s.Adjustments))
	for _, a := range s.Adjustments {
		out = append(out, feeObject{Type: a.Kind, Label: a.Label, Amount: a.Amount})
	}
	return out
}

func customText(ct store.CustomText) customTextObject {
	return customTextObject{
		AfterSubmit: message(ct.AfterSubmit), ShippingAddress: message(ct.ShippingAddress),
		Submit: message(ct.Submit), TermsOfServiceAcceptance: message(ct.TermsOfService),
	}
}

func details(c store.Customer) *customerDetails {
	if c == (store.Customer{}) {
		return nil
	}
	return &customerDetails{
		Email: Nullable(c.Email), Name: Nullable(c.Name()), FirstName: Nullable(c.FirstName),
		LastName: Nullable(c.LastName), Phone: Nullable(c.Phone), IPAddress: Nullable(c.IPAddress),
		Address: address(c.Address),
	}
}

func address(a store.Address) *addressObject {
	if a == (store.Address{}) {
		return nil
	}
	return &addressObject{
		Line1: Nullable(a.Line1), Line2: Nullable(a.Line2), City: Nullable(a.City),
		State: Nullable(a.State), PostalCode: Nullable(a.PostalCode), Country: Nullable(a.Country),
	}
}

func message(s string) *TextMessage {
	if s == "" {
		return nil
	}
	return &TextMessage{Message: s}
}

func nextAction(na *store.NextAction) *nextActionObject {
	if na == nil || na.Type == "" {
		return nil
	}
	o := &nextActionObject{Type: na.Type}
	switch na.Type {
	case "three_d_secure":
		o.ThreeDSecure = &threeDSStep{URL: na.RedirectURL, AllowedOrigins: na.AllowedOrigins,
			Flow: Nullable(na.Flow), StatusURL: Nullable(na.StatusURL), ReturnURL: Nullable(na.ReturnURL),
			Hint: na.Hint, IdempotencyKey: Nullable(na.IdempotencyKey)}
		if o.ThreeDSecure.AllowedOrigins == nil {
			o.ThreeDSecure.AllowedOrigins = []string{}
		}
	default:
		o.RedirectToURL = &redirectStep{URL: na.RedirectURL, ReturnURL: Nullable(na.ReturnURL)}
	}
	return o
}

func nativeLineItem(s *store.Session, li store.LineItem) nativeLineItemObject {
	o := nativeLineItemObject{
		ID: li.ID, Object: "item", AmountDiscount: li.AmountDiscount, AmountSubtotal: li.AmountSubtotal,
		AmountTax: li.AmountTax, AmountTotal: li.AmountTotal, Currency: s.Currency, Description: li.Name,
		Quantity: li.Quantity, Metadata: OrEmpty(li.Metadata),
		Price: nativePriceObject{
			ID: Nullable(li.PriceID), Object: "price", Active: true, BillingScheme: "per_unit", Created: s.Created,
			Currency: s.Currency, Livemode: s.Livemode, TaxBehavior: "unspecified", Type: "one_time",
			UnitAmount: li.UnitAmount, UnitAmountDecimal: strconv.FormatInt(li.UnitAmount, 10),
			LookupKey: Nullable(li.LookupKey),
			Product: nativeProductObject{
				ID: Nullable(li.ProductID), Object: "product", Active: true, Name: li.Name,
				Description: Nullable(li.Description), Images: li.Images, UnitLabel: Nullable(li.UnitLabel),
			},
		},
	}
	if o.Price.Product.Images == nil {
		o.Price.Product.Images = []string{}
	}
	if li.RecurringInterval != "" {
		o.Price.Type = "recurring"
		o.Price.Recurring = &recurringObject{Interval: li.RecurringInterval, IntervalCount: li.RecurringIntervalCount, UsageType: "licensed"}
	}
	return o
}

func refund(r store.Refund) refundObject {
	return refundObject{
		ID: r.ID, Object: "refund", Amount: r.Amount, Currency: r.Currency, Status: r.Status,
		Reason: Nullable(r.Reason), FailureReason: Nullable(r.FailureReason), CheckoutSession: r.SessionID,
		Created: r.Created, Updated: r.Updated,
	}
}
