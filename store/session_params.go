package store

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// SessionParams is what a merchant may set when creating a session. Field
// names are Stripe's; paypage's own additions are marked.
type SessionParams struct {
	Mode               string             `json:"mode"`
	Currency           string             `json:"currency"`
	LineItems          []LineItemParams   `json:"line_items"`
	Fees               []AdjustmentParams `json:"fees"` // paypage: fees, discounts, tax, shipping on the whole session
	CustomerEmail      string             `json:"customer_email"`
	Customer           string             `json:"customer"`
	CustomerDetails    *Customer          `json:"customer_details"` // paypage: snapshot of the shopper
	Guest              bool               `json:"guest"`
	ClientReferenceID  string             `json:"client_reference_id"`
	SuccessURL         string             `json:"success_url"`
	CancelURL          string             `json:"cancel_url"`
	PendingURL         string             `json:"pending_url"`
	ReturnURL          string             `json:"return_url"`
	AfterCompletion    *AfterCompletion   `json:"after_completion"`
	Locale             string             `json:"locale"`
	Appearance         *Appearance        `json:"appearance"`
	CustomText         *CustomText        `json:"custom_text"`
	PaymentMethodTypes []string           `json:"payment_method_types"`
	WalletOptions      WalletOptions      `json:"wallet_options"`
	DisplayCurrency    string             `json:"display_currency"`
	Metadata           map[string]string  `json:"metadata"`
	Attribution        map[string]string  `json:"attribution"`
	Contract           RawJSON            `json:"contract"`
	Estimate           RawJSON            `json:"estimate"`
	CorrelationID      string             `json:"correlation_id"`
	ExpiresAt          int64              `json:"expires_at"`
	RecoveryEnabled    *bool              `json:"recovery_enabled"`
	NextAction         *NextAction        `json:"next_action"` // paypage: where a live shopper pays, at the provider
	ParentID           string             `json:"-"`           // set by recovery, never by the API
	IdempotencyKey     string             `json:"-"`           // from the Idempotency-Key header
}

// LineItemParams is one line item, with inline price data as Stripe takes it.
type LineItemParams struct {
	Quantity  int64      `json:"quantity"`
	PriceData *PriceData `json:"price_data"`
	Price     string     `json:"price"`
	TaxAmount int64      `json:"tax_amount"` // paypage: tax on this line
}

// PriceData is an inline price.
type PriceData struct {
	Currency    string       `json:"currency"`
	UnitAmount  *int64       `json:"unit_amount"`
	ProductData *ProductData `json:"product_data"`
	Recurring   *Recurring   `json:"recurring"`
}

// ProductData is an inline product.
type ProductData struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Images      []string `json:"images"`
}

// Recurring makes a price a subscription price.
type Recurring struct {
	Interval      string `json:"interval"`
	IntervalCount int    `json:"interval_count"`
}

// AdjustmentParams is one fee, discount, tax or shipping charge.
type AdjustmentParams struct {
	Type   string `json:"type"`
	Label  string `json:"label"`
	Amount int64  `json:"amount"`
}

// Limits on what a session may hold.
const (
	MaxLineItems      = 100
	MaxAmount         = 99_999_999_999 // minor units; well inside int64 after summing
	MaxMetadataKeys   = 50
	MaxURLLength      = 2048
	MaxCustomText     = 1200
	DefaultExpiry     = 24 * time.Hour
	MinExpiry         = 60 * time.Second
	MaxExpiry         = 30 * 24 * time.Hour
	maxShortText      = 500
	maxMetadataKeyLen = 40
	maxMetadataValLen = 500
)

var paymentMethodTypes = []string{"card", "sepa_debit", "ideal", "bancontact", "sofort", "giropay", "eps",
	"p24", "klarna", "afterpay_clearpay", "affirm", "paypal", "link", "us_bank_account", "bacs_debit",
	"alipay", "wechat_pay", "blik", "twint", "mobilepay", "swish", "vipps", "pix", "boleto", "oxxo", "upi",
	"apple_pay", "google_pay", "cashapp", "revolut_pay"}

// validateReturnURL enforces where a shopper may ever be sent: an absolute
// https URL without user info, on the merchant's redirect hosts when it named
// any; plain http only to localhost in test mode (for local development).
func validateReturnURL(param, raw string, livemode bool, hosts []string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > MaxURLLength {
		return Invalid(param, "%s must be at most %d characters", param, MaxURLLength)
	}
	u, err := url.Parse(strings.ReplaceAll(raw, "{CHECKOUT_SESSION_ID}", "cs_x"))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return Invalid(param, "%s must be an absolute URL", param)
	}
	if u.User != nil {
		return Invalid(param, "%s must not contain user information", param)
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && !livemode && isLocalhost(host):
	default:
		return Invalid(param, "%s must use https (http is allowed only for localhost in test mode)", param)
	}
	if len(hosts) > 0 && !oneOf(host, hosts...) {
		return Invalid(param, "%s host %q is not one of the merchant's redirect hosts", param, host)
	}
	return nil
}

func isLocalhost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateMetadata checks a string map given as param (metadata,
// attribution): at most MaxMetadataKeys keys, each short and bracket-free.
func validateMetadata(param string, m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return Invalid(param, "%s may have at most %d keys", param, MaxMetadataKeys)
	}
	for k, v := range m {
		if k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen || strings.ContainsAny(k, "[]") {
			return Invalid(param, "%s keys must be 1 to %d characters without brackets", param, maxMetadataKeyLen)
		}
		if err := textParam(param+"["+k+"]", v, maxMetadataValLen); err != nil {
			return err
		}
	}
	return nil
}

func textParam(param, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return Invalid(param, "%s must be at most %d characters", param, max)
	}
	if !utf8.ValidString(v) {
		return Invalid(param, "%s must be valid UTF-8", param)
	}
	return nil
}

// build validates p and returns the session and its rows, totals computed
// here from line items and fees (never trusted from the client).
func (p *SessionParams) build(m *Merchant, livemode bool, now time.Time) (*Session, error) {
	s := &Session{
		MerchantID: m.ID, Livemode: livemode, Mode: p.Mode, Status: StatusOpen, PaymentStatus: PaymentUnpaid,
		Currency: strings.ToLower(p.Currency), DisplayCurrency: strings.ToLower(p.DisplayCurrency),
		CustomerID: p.Customer, Guest: p.Guest, ClientReferenceID: p.ClientReferenceID,
		SuccessURL: p.SuccessURL, CancelURL: p.CancelURL, PendingURL: p.PendingURL, ReturnURL: p.ReturnURL,
		Locale: p.Locale, Appearance: p.Appearance, PaymentMethodTypes: p.PaymentMethodTypes,
		WalletOptions: p.WalletOptions, Metadata: p.Metadata, Attribution: p.Attribution,
		Contract: p.Contract, Estimate: p.Estimate, IdempotencyKey: p.IdempotencyKey,
		CorrelationID: p.CorrelationID, ParentID: p.ParentID, RecoveryEnabled: m.RecoveryEnabled,
	}
	// Absent maps are stored as {} and read back as empty maps; start from
	// the same value so that the session returned here equals later reads.
	for _, md := range []*Metadata{&s.Metadata, &s.Attribution} {
		if *md == nil {
			*md = Metadata{}
		}
	}
	if s.WalletOptions == nil {
		s.WalletOptions = WalletOptions{}
	}
	if s.Mode == "" {
		s.Mode = "payment"
	}
	if !oneOf(s.Mode, "payment", "subscription", "setup") {
		return nil, Invalid("mode", "mode must be one of payment, subscription, setup")
	}
	if p.RecoveryEnabled != nil {
		s.RecoveryEnabled = *p.RecoveryEnabled
	}
	if p.CustomerDetails != nil {
		s.Customer = *p.CustomerDetails
	}
	if p.CustomerEmail != "" {
		s.Customer.Email = p.CustomerEmail
	}
	if s.Customer.Email != "" && (len(s.Customer.Email) > 254 || !strings.Contains(s.Customer.Email, "@")) {
		return nil, Invalid("customer_email", "customer_email must be an email address")
	}
	if s.Customer.IPAddress != "" && net.ParseIP(s.Customer.IPAddress) == nil {
		return nil, Invalid("customer_details[ip_address]", "ip_address must be an IPv4 or IPv6 address")
	}
	for _, f := range []struct{ param, v string }{
		{"customer", s.CustomerID}, {"client_reference_id", s.ClientReferenceID},
		{"correlation_id", s.CorrelationID}, {"customer_details[first_name]", s.Customer.FirstName},
		{"customer_details[last_name]", s.Customer.LastName}, {"customer_details[phone]", s.Customer.Phone},
	} {
		if err := textParam(f.param, f.v, 200); err != nil {
			return nil, err
		}
	}

	if s.Currency == "" && len(p.LineItems) > 0 && p.LineItems[0].PriceData != nil {
		s.Currency = strings.ToLower(p.LineItems[0].PriceData.Currency)
	}
	if _, ok := CurrencyExponent(s.Currency); !ok {
		return nil, Invalid("currency", "currency %q is not an ISO 4217 currency code", s.Currency)
	}
	if s.DisplayCurrency != "" {
		if _, ok := CurrencyExponent(s.DisplayCurrency); !ok {
			return nil, Invalid("display_currency", "display_currency %q is not an ISO 4217 currency code", s.DisplayCurrency)
		}
	}

	if len(p.LineItems) == 0 && s.Mode != "setup" {
		return nil, Invalid("line_items", "line_items is required in %s mode", s.Mode)
	}
	if len(p.LineItems) > MaxLineItems {
		return nil, Invalid("line_items", "at most %d line items", MaxLineItems)
	}
	recurring := false
	for i, lp := range p.LineItems {
		li, err := lp.build(fmt.Sprintf("line_items[%d]", i), s.Currency)
		if err != nil {
			return nil, err
		}
		li.Position = i
		recurring = recurring || li.RecurringInterval != ""
		s.AmountSubtotal += li.AmountSubtotal
		s.AmountTax += li.AmountTax
		s.LineItems = append(s.LineItems, li)
	}
	if s.Mode == "subscription" && !recurring {
		return nil, Invalid("line_items", "subscription mode needs at least one recurring price")
	}
	for i, fp := range p.Fees {
		param := fmt.Sprintf("fees[%d]", i)
		if !oneOf(fp.Type, AdjustFee, AdjustDiscount, AdjustTax, AdjustShipping) {
			return nil, Invalid(param+"[type]", "type must be one of fee, discount, tax, shipping")
		}
		if strings.TrimSpace(fp.Label) == "" {
			return nil, Invalid(param+"[label]", "label is required")
		}
		if err := textParam(param+"[label]", fp.Label, 200); err != nil {
			return nil, err
		}
		if fp.Amount < 0 || fp.Amount > MaxAmount {
			return nil, Invalid(param+"[amount]", "amount must be between 0 and %d", MaxAmount)
		}
		s.Adjustments = append(s.Adjustments, Adjustment{Position: i, Kind: fp.Type, Label: fp.Label, Amount: fp.Amount})
		switch fp.Type {
		case AdjustDiscount:
			s.AmountDiscount += fp.Amount
		case AdjustTax:
			s.AmountTax += fp.Amount
		case AdjustShipping:
			s.AmountShipping += fp.Amount
		}
	}
	var fees int64
	for _, a := range s.Adjustments {
		if a.Kind == AdjustFee {
			fees += a.Amount
		}
	}
	s.AmountTotal = s.AmountSubtotal + s.AmountTax + s.AmountShipping + fees - s.AmountDiscount
	if s.AmountTotal < 0 {
		return nil, Invalid("fees", "discounts exceed the amount due")
	}
	if s.AmountTotal > MaxAmount {
		return nil, Invalid("line_items", "the total exceeds %d", MaxAmount)
	}
	if s.AmountTotal == 0 {
		s.PaymentStatus = PaymentNoPaymentRequired
	}

	for _, u := range []struct{ param, v string }{
		{"success_url", s.SuccessURL}, {"cancel_url", s.CancelURL},
		{"pending_url", s.PendingURL}, {"return_url", s.ReturnURL},
	} {
		if err := validateReturnURL(u.param, u.v, livemode, m.RedirectHosts); err != nil {
			return nil, err
		}
	}
	if p.AfterCompletion != nil {
		s.AfterCompletion = *p.AfterCompletion
	}
	if s.AfterCompletion.Type == "" {
		s.AfterCompletion.Type = "redirect"
	}
	if !oneOf(s.AfterCompletion.Type, "redirect", "hosted") {
		return nil, Invalid("after_completion[type]", "after_completion[type] must be redirect or hosted")
	}
	if err := textParam("after_completion[custom_message]", s.AfterCompletion.CustomMessage, MaxCustomText); err != nil {
		return nil, err
	}
	if s.Locale == "" {
		s.Locale = "auto"
	}
	if len(s.Locale) > 35 || strings.ContainsAny(s.Locale, " /<>\"'") {
		return nil, Invalid("locale", "locale must be an IETF language tag or auto")
	}
	if p.NextAction != nil {
		if err := p.NextAction.validate(); err != nil {
			return nil, err
		}
		s.NextAction = p.NextAction
	}
	if s.Appearance != nil {
		if err := s.Appearance.Validate("appearance"); err != nil {
			return nil, err
		}
	}
	if p.CustomText != nil {
		s.CustomText = *p.CustomText
		for _, f := range []struct{ param, v string }{
			{"custom_text[submit]", s.CustomText.Submit}, {"custom_text[after_submit]", s.CustomText.AfterSubmit},
			{"custom_text[shipping_address]", s.CustomText.ShippingAddress},
			{"custom_text[terms_of_service_acceptance]", s.CustomText.TermsOfService},
		} {
			if err := textParam(f.param, f.v, MaxCustomText); err != nil {
				return nil, err
			}
		}
	}
	if len(s.PaymentMethodTypes) == 0 {
		s.PaymentMethodTypes = StringList{"card"}
	}
	for i, t := range s.PaymentMethodTypes {
		if !oneOf(t, paymentMethodTypes...) {
			return nil, Invalid(fmt.Sprintf("payment_method_types[%d]", i), "unknown payment method type %q", t)
		}
	}
	for name, w := range s.WalletOptions {
		if !oneOf(name, "apple_pay", "google_pay", "link") {
			return nil, Invalid("wallet_options", "unknown wallet %q", name)
		}
		if !oneOf(w.Display, "auto", "never") {
			return nil, Invalid("wallet_options["+name+"][display]", "display must be auto or never")
		}
	}
	for _, md := range []struct {
		param string
		m     map[string]string
	}{{"metadata", s.Metadata}, {"attribution", s.Attribution}} {
		if err := validateMetadata(md.param, md.m); err != nil {
			return nil, err
		}
	}
	for _, doc := range []struct {
		param string
		v     *RawJSON
	}{{"contract", &s.Contract}, {"estimate", &s.Estimate}} {
		if len(*doc.v) == 0 {
			*doc.v = nil // absent: NULL, not an empty document that cannot be marshalled
			continue
		}
		if len(*doc.v) > 64<<10 {
			return nil, Invalid(doc.param, "%s must be at most 64 KiB", doc.param)
		}
		// Returned verbatim inside API answers: text that is not JSON would
		// break every later answer about this session, so refuse it now.
		if !json.Valid(*doc.v) {
			return nil, Invalid(doc.param, "%s must be a JSON document", doc.param)
		}
	}
	if len(s.IdempotencyKey) > 255 {
		return nil, Invalid("idempotency_key", "Idempotency-Key must be at most 255 characters")
	}

	s.Created = now.Unix()
	s.Updated, s.LastActivityAt, s.Version = s.Created, s.Created, 1
	s.ExpiresAt = now.Add(DefaultExpiry).Unix()
	if p.ExpiresAt != 0 {
		d := time.Unix(p.ExpiresAt, 0).Sub(now)
		if d < MinExpiry || d > MaxExpiry {
			return nil, Invalid("expires_at", "expires_at must be between 60 seconds and 30 days from now")
		}
		s.ExpiresAt = p.ExpiresAt
	}
	return s, nil
}

func (lp LineItemParams) build(param, currency string) (LineItem, error) {
	if lp.Price != "" {
		return LineItem{}, Invalid(param+"[price]", "stored prices are not supported; use price_data")
	}
	pd := lp.PriceData
	if pd == nil {
		return LineItem{}, Invalid(param+"[price_data]", "price_data is required")
	}
	if pd.Currency != "" && !strings.EqualFold(pd.Currency, currency) {
		return LineItem{}, Invalid(param+"[price_data][currency]", "every line item must use the session's currency %q", currency)
	}
	if pd.UnitAmount == nil {
		return LineItem{}, Invalid(param+"[price_data][unit_amount]", "unit_amount is required")
	}
	if *pd.UnitAmount < 0 || *pd.UnitAmount > MaxAmount {
		return LineItem{}, Invalid(param+"[price_data][unit_amount]", "unit_amount must be between 0 and %d", MaxAmount)
	}
	if pd.ProductData == nil || strings.TrimSpace(pd.ProductData.Name) == "" {
		return LineItem{}, Invalid(param+"[price_data][product_data][name]", "product name is required")
	}
	if err := textParam(param+"[price_data][product_data][name]", pd.ProductData.Name, 250); err != nil {
		return LineItem{}, err
	}
	if err := textParam(param+"[price_data][product_data][description]", pd.ProductData.Description, maxShortText); err != nil {
		return LineItem{}, err
	}
	if len(pd.ProductData.Images) > 8 {
		return LineItem{}, Invalid(param+"[price_data][product_data][images]", "at most 8 images")
	}
	for j, img := range pd.ProductData.Images {
		u, err := url.Parse(img)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(img) > MaxURLLength {
			return LineItem{}, Invalid(fmt.Sprintf("%s[price_data][product_data][images][%d]", param, j), "images must be absolute https URLs")
		}
	}
	if lp.Quantity < 1 || lp.Quantity > 1_000_000 {
		return LineItem{}, Invalid(param+"[quantity]", "quantity must be between 1 and 1000000")
	}
	if lp.TaxAmount < 0 || lp.TaxAmount > MaxAmount {
		return LineItem{}, Invalid(param+"[tax_amount]", "tax_amount must be between 0 and %d", MaxAmount)
	}
	li := LineItem{
		ID: newID("li_"), Name: pd.ProductData.Name, Description: pd.ProductData.Description,
		Images: pd.ProductData.Images, Quantity: lp.Quantity, UnitAmount: *pd.UnitAmount, AmountTax: lp.TaxAmount,
	}
	if li.Images == nil {
		li.Images = StringList{}
	}
	if *pd.UnitAmount > MaxAmount/lp.Quantity {
		return LineItem{}, Invalid(param+"[quantity]", "quantity times unit_amount exceeds %d", MaxAmount)
	}
	li.AmountSubtotal = li.UnitAmount * li.Quantity
	li.AmountTotal = li.AmountSubtotal + li.AmountTax
	if pd.Recurring != nil {
		r := *pd.Recurring // a copy: the caller's params stay as given
		if !oneOf(r.Interval, "day", "week", "month", "year") {
			return LineItem{}, Invalid(param+"[price_data][recurring][interval]", "interval must be one of day, week, month, year")
		}
		if r.IntervalCount == 0 {
			r.IntervalCount = 1
		}
		if r.IntervalCount < 1 || r.IntervalCount > 365 {
			return LineItem{}, Invalid(param+"[price_data][recurring][interval_count]", "interval_count must be between 1 and 365")
		}
		li.RecurringInterval, li.RecurringIntervalCount = r.Interval, r.IntervalCount
	}
	return li, nil
}
