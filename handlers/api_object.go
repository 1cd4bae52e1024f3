package handlers

import (
	"strconv"

	"github.com/paypage/paypage/store"
)

// The JSON objects of the API. Field names are Stripe's wherever Stripe has
// the concept, so that Stripe's client libraries decode them; paypage's own
// additions (fees, failure_reason, attribution, version…) sit beside them and
// are ignored by those clients. Absent optional values are null, as in
// Stripe's API. docs/openapi.json describes every field.

// sessionObject is a "checkout.session".
type sessionObject struct {
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

	// Present only when asked for with expand[].
	LineItems     *listObject[lineItemObject] `json:"line_items,omitempty"`
	Appearance    *store.Appearance           `json:"appearance,omitempty"`
	Refunds       *listObject[refundObject]   `json:"refunds,omitempty"`
	ChildSessions *listObject[*sessionObject] `json:"child_sessions,omitempty"`
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
	AfterSubmit              *textMessage `json:"after_submit"`
	ShippingAddress          *textMessage `json:"shipping_address"`
	Submit                   *textMessage `json:"submit"`
	TermsOfServiceAcceptance *textMessage `json:"terms_of_service_acceptance"`
}

type textMessage struct {
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
	URL string `json:"url"`
}

type threeDSStep struct {
	URL            string   `json:"url"`
	AllowedOrigins []string `json:"allowed_origins"`
}

// lineItemObject is a Stripe "item": a line item with its inline price.
type lineItemObject struct {
	ID             string      `json:"id"`
	Object         string      `json:"object"`
	AmountDiscount int64       `json:"amount_discount"`
	AmountSubtotal int64       `json:"amount_subtotal"`
	AmountTax      int64       `json:"amount_tax"`
	AmountTotal    int64       `json:"amount_total"`
	Currency       string      `json:"currency"`
	Description    string      `json:"description"` // the product name, as Stripe has it
	Quantity       int64       `json:"quantity"`
	Price          priceObject `json:"price"`
}

type priceObject struct {
	ID                *string          `json:"id"`
	Object            string           `json:"object"`
	Active            bool             `json:"active"`
	BillingScheme     string           `json:"billing_scheme"`
	Created           int64            `json:"created"`
	Currency          string           `json:"currency"`
	Livemode          bool             `json:"livemode"`
	Product           productObject    `json:"product"`
	Recurring         *recurringObject `json:"recurring"`
	TaxBehavior       string           `json:"tax_behavior"`
	Type              string           `json:"type"`
	UnitAmount        int64            `json:"unit_amount"`
	UnitAmountDecimal string           `json:"unit_amount_decimal"`
}

type productObject struct {
	ID          *string  `json:"id"`
	Object      string   `json:"object"`
	Active      bool     `json:"active"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	Images      []string `json:"images"`
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
}

// listObject is Stripe's list envelope.
type listObject[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

func newList[T any](url string, data []T, more bool) *listObject[T] {
	if data == nil {
		data = []T{}
	}
	return &listObject[T]{Object: "list", Data: data, HasMore: more, URL: url}
}

// sessionBody renders a session without its expandable parts.
func (h *handler) sessionBody(s *store.Session) *sessionObject {
	exp, _ := store.CurrencyExponent(s.Currency)
	o := &sessionObject{
		ID: s.ID, Object: "checkout.session", Livemode: s.Livemode, Mode: s.Mode, UIMode: "hosted",
		Status: s.Status, PaymentStatus: s.PaymentStatus, Currency: s.Currency, CurrencyExponent: exp,
		DisplayCurrency: nullable(s.DisplayCurrency), AmountSubtotal: s.AmountSubtotal, AmountTotal: s.AmountTotal,
		AmountRefunded: s.AmountRefunded,
		TotalDetails:   totalDetails{AmountDiscount: s.AmountDiscount, AmountShipping: s.AmountShipping, AmountTax: s.AmountTax},
		Fees:           []feeObject{},
		Customer:       nullable(s.CustomerID), CustomerEmail: nullable(s.Customer.Email),
		CustomerDetails: details(s.Customer), Guest: s.Guest, ClientReferenceID: nullable(s.ClientReferenceID),
		URL:        h.cfg.BaseURL + "/pay/" + s.ID,
		SuccessURL: nullable(s.SuccessURL), CancelURL: nullable(s.CancelURL), PendingURL: nullable(s.PendingURL),
		ReturnURL:       nullable(s.ReturnURL),
		AfterCompletion: afterCompletionObject{Type: s.AfterCompletion.Type, CustomMessage: nullable(s.AfterCompletion.CustomMessage)},
		RecoveredFrom:   nullable(s.ParentID), Locale: s.Locale,
		CustomText: customTextObject{
			AfterSubmit: message(s.CustomText.AfterSubmit), ShippingAddress: message(s.CustomText.ShippingAddress),
			Submit: message(s.CustomText.Submit), TermsOfServiceAcceptance: message(s.CustomText.TermsOfService),
		},
		PaymentMethodTypes: s.PaymentMethodTypes, WalletOptions: s.WalletOptions,
		PaymentMethod: nullable(s.PaymentMethod), Provider: nullable(s.Provider), PaymentIntent: nullable(s.PaymentIntent),
		NextAction:    nextAction(s.NextAction),
		FailureReason: nullable(s.FailureReason), FailureMessage: nullable(s.FailureMessage),
		Metadata: orEmpty(s.Metadata), Attribution: orEmpty(s.Attribution),
		IdempotencyKey: nullable(s.IdempotencyKey), CorrelationID: nullable(s.CorrelationID),
		Created: s.Created, Updated: s.Updated, ExpiresAt: s.ExpiresAt, ConfirmedAt: s.ConfirmedAt,
		PaidAt: s.PaidAt, CompletedAt: s.CompletedAt, CanceledAt: s.CanceledAt, ExpiredAt: s.ExpiredAt,
		LastActivityAt: s.LastActivityAt, Version: s.Version,
	}
	o.AfterExpiration.Recovery.Enabled = s.RecoveryEnabled
	if o.PaymentMethodTypes == nil {
		o.PaymentMethodTypes = []string{}
	}
	if o.WalletOptions == nil {
		o.WalletOptions = store.WalletOptions{}
	}
	for _, a := range s.Adjustments {
		o.Fees = append(o.Fees, feeObject{Type: a.Kind, Label: a.Label, Amount: a.Amount})
	}
	return o
}

func details(c store.Customer) *customerDetails {
	if c == (store.Customer{}) {
		return nil
	}
	d := &customerDetails{
		Email: nullable(c.Email), Name: nullable(c.Name()), FirstName: nullable(c.FirstName),
		LastName: nullable(c.LastName), Phone: nullable(c.Phone), IPAddress: nullable(c.IPAddress),
	}
	if a := c.Address; a != (store.Address{}) {
		d.Address = &addressObject{
			Line1: nullable(a.Line1), Line2: nullable(a.Line2), City: nullable(a.City),
			State: nullable(a.State), PostalCode: nullable(a.PostalCode), Country: nullable(a.Country),
		}
	}
	return d
}

func message(s string) *textMessage {
	if s == "" {
		return nil
	}
	return &textMessage{Message: s}
}

func nextAction(na *store.NextAction) *nextActionObject {
	if na == nil || na.Type == "" {
		return nil
	}
	o := &nextActionObject{Type: na.Type}
	switch na.Type {
	case "three_d_secure":
		o.ThreeDSecure = &threeDSStep{URL: na.RedirectURL, AllowedOrigins: na.AllowedOrigins}
		if o.ThreeDSecure.AllowedOrigins == nil {
			o.ThreeDSecure.AllowedOrigins = []string{}
		}
	default:
		o.RedirectToURL = &redirectStep{URL: na.RedirectURL}
	}
	return o
}

func lineItem(s *store.Session, li store.LineItem) lineItemObject {
	o := lineItemObject{
		ID: li.ID, Object: "item", AmountDiscount: li.AmountDiscount, AmountSubtotal: li.AmountSubtotal,
		AmountTax: li.AmountTax, AmountTotal: li.AmountTotal, Currency: s.Currency, Description: li.Name,
		Quantity: li.Quantity,
		Price: priceObject{
			ID: nullable(li.PriceID), Object: "price", Active: true, BillingScheme: "per_unit", Created: s.Created,
			Currency: s.Currency, Livemode: s.Livemode, TaxBehavior: "unspecified", Type: "one_time",
			UnitAmount: li.UnitAmount, UnitAmountDecimal: strconv.FormatInt(li.UnitAmount, 10),
			Product: productObject{
				ID: nullable(li.ProductID), Object: "product", Active: true, Name: li.Name,
				Description: nullable(li.Description), Images: li.Images,
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
		Reason: nullable(r.Reason), FailureReason: nullable(r.FailureReason), CheckoutSession: r.SessionID,
		Created: r.Created,
	}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orEmpty(m store.Metadata) store.Metadata {
	if m == nil {
		return store.Metadata{}
	}
	return m
}
