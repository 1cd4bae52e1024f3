package store

import (
	"encoding/json"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paypage/paypage/locales"
)

// SessionParams is what a merchant may set when creating a session. Field
// names are Stripe's; paypage's own additions are marked.
type SessionParams struct {
	Mode                     string             `json:"mode"`
	Currency                 string             `json:"currency"`
	LineItems                []LineItemParams   `json:"line_items"`
	Fees                     []AdjustmentParams `json:"fees"` // paypage: fees, discounts, tax, shipping on the whole session
	CustomerEmail            string             `json:"customer_email"`
	Customer                 string             `json:"customer"`
	CustomerDetails          *Customer          `json:"customer_details"` // paypage: snapshot of the shopper
	Guest                    bool               `json:"guest"`
	ClientReferenceID        string             `json:"client_reference_id"`
	SuccessURL               string             `json:"success_url"`
	CancelURL                string             `json:"cancel_url"`
	PendingURL               string             `json:"pending_url"`
	ReturnURL                string             `json:"return_url"`
	AfterCompletion          *AfterCompletion   `json:"after_completion"`
	Locale                   string             `json:"locale"`
	Appearance               *Appearance        `json:"appearance"`
	CustomText               *CustomText        `json:"custom_text"`
	PaymentMethodTypes       []string           `json:"payment_method_types"`
	WalletOptions            WalletOptions      `json:"wallet_options"`
	DisplayCurrency          string             `json:"display_currency"`
	Metadata                 map[string]string  `json:"metadata"`
	Attribution              map[string]string  `json:"attribution"`
	Contract                 RawJSON            `json:"contract"`
	Estimate                 RawJSON            `json:"estimate"`
	CorrelationID            string             `json:"correlation_id"`
	ExpiresAt                int64              `json:"expires_at"`
	RecoveryEnabled          *bool              `json:"recovery_enabled"`
	NextAction               *NextAction        `json:"next_action"`                // paypage: where a live shopper pays, at the provider
	SubmitType               string             `json:"submit_type"`                // auto, book, donate, pay, subscribe
	BillingAddressCollection string             `json:"billing_address_collection"` // auto, required
	CustomerCreation         string             `json:"customer_creation"`          // always, if_required
	Description              string             `json:"description"`
	// paypage: references of the merchant's own systems.
	ContractID       string `json:"contract_id"`
	ExecutionID      string `json:"execution_id"`
	BusinessEntityID string `json:"business_entity_id"`
	ClientCustomerID string `json:"client_customer_id"`
	ParentID         string `json:"-"` // set by recovery, never by the API
	IdempotencyKey   string `json:"-"` // from the Idempotency-Key header
}

// LineItemParams is one line item: inline price data, or a price stored
// with an earlier session's line item (its price_… id), as Stripe takes it.
type LineItemParams struct {
	Quantity  int64      `json:"quantity"`
	PriceData *PriceData `json:"price_data"`
	Price     string     `json:"price"`
	TaxAmount int64      `json:"tax_amount"` // paypage: tax on this line
	Metadata  Metadata   `json:"metadata"`   // the line item's own

	stored *storedPrice // what Price names, found by CreateSession
}

// storedPrice is a price given out with an earlier line item: its ids and
// what it is for, reused by the line items that name it.
type storedPrice struct {
	PriceID     string     `db:"price_id"`
	ProductID   string     `db:"product_id"`
	Currency    string     `db:"currency"`
	Name        string     `db:"name"`
	Description string     `db:"description"`
	Images      StringList `db:"images"`
	UnitAmount  int64      `db:"unit_amount"`
	Interval    string     `db:"recurring_interval"`
	Count       int        `db:"recurring_interval_count"`
	UnitLabel   string     `db:"unit_label"`
	LookupKey   string     `db:"lookup_key"`
}

// PriceData is an inline price.
type PriceData struct {
	Currency    string       `json:"currency"`
	UnitAmount  *int64       `json:"unit_amount"`
	ProductData *ProductData `json:"product_data"`
	Recurring   *Recurring   `json:"recurring"`
	LookupKey   string       `json:"lookup_key"` // paypage: the price's key in the merchant's catalogue
}

// ProductData is an inline product.
type ProductData struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Images      []string `json:"images"`
	UnitLabel   string   `json:"unit_label"` // what one unit is ("kg", "seat"), at most 12 characters
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
	MaxFees           = 50
	MaxAllowedOrigins = 10 // of a next_action
	MaxAddressField   = 200
	MaxAmount         = 99_999_999_999 // minor units; well inside int64 after summing
	MaxMetadataKeys   = 50
	MaxURLLength      = 2048
	MaxCustomText     = 1200
	DefaultExpiry     = 24 * time.Hour
	MinExpiry         = 60 * time.Second
	MaxExpiry         = 30 * 24 * time.Hour
	// RecoveryWindow is how long after expiring a session may be recovered
	// from its page (Stripe's recovery URLs last as long).
	RecoveryWindow    = 30 * 24 * time.Hour
	maxShortText      = 500
	maxMetadataKeyLen = 40
	maxMetadataValLen = 500
)

// PaymentMethodTypes are the payment methods a session may offer.
var PaymentMethodTypes = []string{"card", "sepa_debit", "ideal", "bancontact", "sofort", "giropay", "eps",
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
	if !IsText(raw) {
		return errNotText(param)
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

func textParam(param, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return Invalid(param, "%s must be at most %d characters", param, max)
	}
	if !IsText(v) {
		return errNotText(param)
	}
	return nil
}

// IsText reports whether s is text the database takes as it is: valid
// UTF-8 (PostgreSQL refuses anything else) without NUL (which PostgreSQL
// refuses and SQLite would store). Every layer that lets text in asks it.
func IsText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

func errNotText(param string) *Error {
	return Invalid(param, "%s must be valid UTF-8 text without NUL characters", param)
}

// validEmail accepts an address a mail system can deliver to: local@domain
// as RFC 5322 writes it without a display name, a local part of at most 64
// bytes, and a domain that is a host name with a dot (not a bare name, not
// an address literal).
func validEmail(s string) bool {
	if len(s) > 254 || !IsText(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || strings.HasPrefix(local, `"`) || !strings.Contains(domain, ".") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.ContainsFunc(label, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			return false
		}
	}
	return true
}

// build validates p and returns the session and its rows, totals computed
// here from line items and fees (never trusted from the client). Each group
// of parameters has its validator; the first refusal names its parameter.
func (p *SessionParams) build(m *Merchant, livemode bool, now time.Time) (*Session, error) {
	s := p.newSession(m)
	s.Livemode = livemode
	for _, step := range []func(*Session) error{
		p.buildMode,
		p.buildCustomer,
		p.buildItems,
		func(s *Session) error { return p.buildURLs(s, livemode, m.RedirectHosts) },
		p.buildPage,
		p.buildPayment,
		p.buildReferences,
		func(s *Session) error { return p.buildExpiry(s, now) },
	} {
		if err := step(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newSession copies what needs no checking, or is checked by a step.
func (p *SessionParams) newSession(m *Merchant) *Session {
	s := &Session{
		MerchantID: m.ID, Mode: p.Mode, Status: StatusOpen, PaymentStatus: PaymentUnpaid,
		Currency: strings.ToLower(p.Currency), DisplayCurrency: strings.ToLower(p.DisplayCurrency),
		CustomerID: p.Customer, Guest: p.Guest, ClientReferenceID: p.ClientReferenceID,
		SuccessURL: p.SuccessURL, CancelURL: p.CancelURL, PendingURL: p.PendingURL, ReturnURL: p.ReturnURL,
		Locale: p.Locale, Appearance: p.Appearance, PaymentMethodTypes: p.PaymentMethodTypes,
		WalletOptions: p.WalletOptions, Metadata: p.Metadata, Attribution: p.Attribution,
		Contract: p.Contract, Estimate: p.Estimate, IdempotencyKey: p.IdempotencyKey,
		CorrelationID: p.CorrelationID, ParentID: p.ParentID, RecoveryEnabled: m.RecoveryEnabled,
		SubmitType: p.SubmitType, BillingAddressCollection: p.BillingAddressCollection,
		CustomerCreation: p.CustomerCreation, Description: p.Description, ContractID: p.ContractID,
		ExecutionID: p.ExecutionID, BusinessEntityID: p.BusinessEntityID, ClientCustomerID: p.ClientCustomerID,
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
	if p.RecoveryEnabled != nil {
		s.RecoveryEnabled = *p.RecoveryEnabled
	}
	return s
}

func (p *SessionParams) buildMode(s *Session) error {
	if s.Mode == "" {
		s.Mode = "payment"
	}
	if !oneOf(s.Mode, "payment", "subscription", "setup") {
		return Invalid("mode", "mode must be one of payment, subscription, setup")
	}
	return nil
}

// buildCustomer checks the snapshot of the shopper.
func (p *SessionParams) buildCustomer(s *Session) error {
	if p.CustomerDetails != nil {
		s.Customer = *p.CustomerDetails
	}
	emailParam := "customer_details[email]"
	if p.CustomerEmail != "" {
		s.Customer.Email, emailParam = p.CustomerEmail, "customer_email"
	}
	if s.Customer.Email != "" && !validEmail(s.Customer.Email) {
		return Invalid(emailParam, "%s must be an email address like ada@example.com", emailParam)
	}
	if s.Customer.IPAddress != "" && net.ParseIP(s.Customer.IPAddress) == nil {
		return Invalid("customer_details[ip_address]", "ip_address must be an IPv4 or IPv6 address")
	}
	addr := s.Customer.Address
	return textParams(200,
		"customer", s.CustomerID, "customer_details[first_name]", s.Customer.FirstName,
		"customer_details[last_name]", s.Customer.LastName, "customer_details[phone]", s.Customer.Phone,
		"customer_details[address][line1]", addr.Line1, "customer_details[address][line2]", addr.Line2,
		"customer_details[address][city]", addr.City, "customer_details[address][state]", addr.State,
		"customer_details[address][postal_code]", addr.PostalCode, "customer_details[address][country]", addr.Country)
}

// textParams checks pairs of parameter name and value with textParam.
func textParams(max int, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := textParam(pairs[i], pairs[i+1], max); err != nil {
			return err
		}
	}
	return nil
}

// buildItems checks what is sold — line items, then the currency (which the
// first line item may give), fees — and computes the totals.
func (p *SessionParams) buildItems(s *Session) error {
	// What to sell comes first: without it no currency can be derived, and
	// blaming the currency would send the merchant the wrong way.
	if len(p.LineItems) == 0 && s.Mode != "setup" {
		return Invalid("line_items", "line_items is required in %s mode", s.Mode)
	}
	if len(p.LineItems) > MaxLineItems {
		return Invalid("line_items", "at most %d line items", MaxLineItems)
	}
	for i, lp := range p.LineItems {
		if lp.Price != "" && lp.stored == nil && lp.PriceData == nil {
			return NoSuchPrice(fmt.Sprintf("line_items[%d][price]", i), lp.Price)
		}
	}
	if s.Currency == "" && len(p.LineItems) > 0 {
		switch first := p.LineItems[0]; {
		case first.PriceData != nil:
			s.Currency = strings.ToLower(first.PriceData.Currency)
		case first.stored != nil:
			s.Currency = first.stored.Currency
		}
	}
	if _, ok := CurrencyExponent(s.Currency); !ok {
		return Invalid("currency", "currency %q is not an ISO 4217 currency code", s.Currency)
	}
	if s.DisplayCurrency != "" {
		if _, ok := CurrencyExponent(s.DisplayCurrency); !ok {
			return Invalid("display_currency", "display_currency %q is not an ISO 4217 currency code", s.DisplayCurrency)
		}
	}
	recurring := false
	for i, lp := range p.LineItems {
		li, err := lp.build(fmt.Sprintf("line_items[%d]", i), s.Currency)
		if err != nil {
			return err
		}
		li.Position = i
		recurring = recurring || li.RecurringInterval != ""
		s.AmountSubtotal += li.AmountSubtotal
		s.AmountTax += li.AmountTax
		s.LineItems = append(s.LineItems, li)
	}
	if s.Mode == "subscription" && !recurring {
		return Invalid("line_items", "subscription mode needs at least one recurring price")
	}
	if err := p.buildFees(s); err != nil {
		return err
	}
	var fees int64
	for _, a := range s.Adjustments {
		if a.Kind == AdjustFee {
			fees += a.Amount
		}
	}
	s.AmountTotal = s.AmountSubtotal + s.AmountTax + s.AmountShipping + fees - s.AmountDiscount
	if s.AmountTotal < 0 {
		return Invalid("fees", "discounts exceed the amount due")
	}
	if s.AmountTotal > MaxAmount {
		return Invalid("line_items", "the total exceeds %d", MaxAmount)
	}
	if s.AmountTotal == 0 {
		s.PaymentStatus = PaymentNoPaymentRequired
	}
	return nil
}

// buildFees checks the fees, discounts, tax and shipping on the whole
// session, and adds them up by kind.
func (p *SessionParams) buildFees(s *Session) error {
	if len(p.Fees) > MaxFees {
		return Invalid("fees", "at most %d fees", MaxFees)
	}
	for i, fp := range p.Fees {
		param := fmt.Sprintf("fees[%d]", i)
		if !oneOf(fp.Type, AdjustFee, AdjustDiscount, AdjustTax, AdjustShipping) {
			return Invalid(param+"[type]", "type must be one of fee, discount, tax, shipping")
		}
		if strings.TrimSpace(fp.Label) == "" {
			return Invalid(param+"[label]", "label is required")
		}
		if err := textParam(param+"[label]", fp.Label, 200); err != nil {
			return err
		}
		if fp.Amount < 0 || fp.Amount > MaxAmount {
			return Invalid(param+"[amount]", "amount must be between 0 and %d", MaxAmount)
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
	return nil
}

// buildURLs checks where the shopper may be sent afterwards.
func (p *SessionParams) buildURLs(s *Session, livemode bool, hosts []string) error {
	for _, u := range []struct{ param, v string }{
		{"success_url", s.SuccessURL}, {"cancel_url", s.CancelURL},
		{"pending_url", s.PendingURL}, {"return_url", s.ReturnURL},
	} {
		if err := validateReturnURL(u.param, u.v, livemode, hosts); err != nil {
			return err
		}
	}
	if p.AfterCompletion != nil {
		s.AfterCompletion = *p.AfterCompletion
	}
	if s.AfterCompletion.Type == "" {
		s.AfterCompletion.Type = "redirect"
	}
	if !oneOf(s.AfterCompletion.Type, "redirect", "hosted") {
		return Invalid("after_completion[type]", "after_completion[type] must be redirect or hosted")
	}
	return textParam("after_completion[custom_message]", s.AfterCompletion.CustomMessage, MaxCustomText)
}

// buildPage checks what the hosted page shows: its language, branding and
// words.
func (p *SessionParams) buildPage(s *Session) error {
	if s.Locale == "" {
		s.Locale = "auto"
	}
	if _, ok := locales.Match(s.Locale); s.Locale != "auto" && (!IsText(s.Locale) || !ok) {
		return Invalid("locale", "locale %q is not a language paypage shows pages in: use auto or an IETF language tag such as fr or pt-BR", s.Locale)
	}
	if s.Appearance != nil {
		if err := s.Appearance.Validate("appearance"); err != nil {
			return err
		}
	}
	if p.CustomText != nil {
		s.CustomText = *p.CustomText
		if err := textParams(MaxCustomText, "custom_text[submit]", s.CustomText.Submit,
			"custom_text[after_submit]", s.CustomText.AfterSubmit,
			"custom_text[shipping_address]", s.CustomText.ShippingAddress,
			"custom_text[terms_of_service_acceptance]", s.CustomText.TermsOfService); err != nil {
			return err
		}
	}
	if s.SubmitType != "" && !oneOf(s.SubmitType, "auto", "book", "donate", "pay", "subscribe") {
		return Invalid("submit_type", "submit_type must be one of auto, book, donate, pay, subscribe")
	}
	return textParam("description", s.Description, maxShortText)
}

// buildPayment checks how the shopper may pay: methods, wallets, what the
// provider needs them to do, what is collected.
func (p *SessionParams) buildPayment(s *Session) error {
	if p.NextAction != nil {
		if err := p.NextAction.validate(); err != nil {
			return err
		}
		s.NextAction = p.NextAction
		s.ProviderOrigin = urlOrigin(p.NextAction.RedirectURL)
	}
	if len(s.PaymentMethodTypes) == 0 {
		s.PaymentMethodTypes = StringList{"card"}
	}
	for i, t := range s.PaymentMethodTypes {
		if !oneOf(t, PaymentMethodTypes...) {
			return Invalid(fmt.Sprintf("payment_method_types[%d]", i), "unknown payment method type %q", t)
		}
		if oneOf(t, s.PaymentMethodTypes[:i]...) {
			return Invalid(fmt.Sprintf("payment_method_types[%d]", i), "payment method type %q is listed twice", t)
		}
	}
	for name, w := range s.WalletOptions {
		if !oneOf(name, "apple_pay", "google_pay", "link") {
			return Invalid("wallet_options", "unknown wallet %q", name)
		}
		if !oneOf(w.Display, "auto", "never") {
			return Invalid("wallet_options["+name+"][display]", "display must be auto or never")
		}
	}
	if s.BillingAddressCollection != "" && !oneOf(s.BillingAddressCollection, "auto", "required") {
		return Invalid("billing_address_collection", "billing_address_collection must be auto or required")
	}
	if s.CustomerCreation != "" && !oneOf(s.CustomerCreation, "always", "if_required") {
		return Invalid("customer_creation", "customer_creation must be always or if_required")
	}
	return nil
}

// buildReferences checks what the merchant keeps on the session for itself:
// metadata, attribution, contract and estimate documents, references of
// its own systems, and the idempotency key it was made with.
func (p *SessionParams) buildReferences(s *Session) error {
	if err := validateMetadata("metadata", s.Metadata); err != nil {
		return err
	}
	if err := validateMetadata("attribution", s.Attribution); err != nil {
		return err
	}
	if err := textParams(200, "client_reference_id", s.ClientReferenceID, "correlation_id", s.CorrelationID,
		"contract_id", s.ContractID, "execution_id", s.ExecutionID, "business_entity_id", s.BusinessEntityID,
		"client_customer_id", s.ClientCustomerID); err != nil {
		return err
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
			return Invalid(doc.param, "%s must be at most 64 KiB", doc.param)
		}
		if !utf8.Valid(*doc.v) {
			return errNotText(doc.param)
		}
		// Returned verbatim inside API answers: text that is not JSON would
		// break every later answer about this session, so refuse it now.
		if !json.Valid(*doc.v) {
			return Invalid(doc.param, "%s must be a JSON document", doc.param)
		}
	}
	if len(s.IdempotencyKey) > 255 {
		return Invalid("idempotency_key", "Idempotency-Key must be at most 255 characters")
	}
	if !IsText(s.IdempotencyKey) {
		return errNotText("Idempotency-Key")
	}
	return nil
}

// validateMetadata checks a hash of strings: at most MaxMetadataKeys keys
// of text without brackets, values of text.
func validateMetadata(param string, m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return Invalid(param, "%s may have at most %d keys", param, MaxMetadataKeys)
	}
	for k, v := range m {
		if k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen || strings.ContainsAny(k, "[]") || !IsText(k) {
			return Invalid(param, "%s keys must be 1 to %d characters without brackets", param, maxMetadataKeyLen)
		}
		if err := textParam(param+"["+k+"]", v, maxMetadataValLen); err != nil {
			return err
		}
	}
	return nil
}

// buildExpiry sets the times: created now, expiring after DefaultExpiry
// unless expires_at says otherwise.
func (p *SessionParams) buildExpiry(s *Session, now time.Time) error {
	s.Created = now.Unix()
	s.Updated, s.LastActivityAt, s.Version = s.Created, s.Created, 1
	s.ExpiresAt = now.Add(DefaultExpiry).Unix()
	if p.ExpiresAt != 0 {
		d := time.Unix(p.ExpiresAt, 0).Sub(now)
		if d < MinExpiry || d > MaxExpiry {
			return Invalid("expires_at", "expires_at must be between 60 seconds and 30 days from now")
		}
		s.ExpiresAt = p.ExpiresAt
	}
	return nil
}

func (lp LineItemParams) build(param, currency string) (LineItem, error) {
	switch {
	case lp.Price != "" && lp.PriceData != nil:
		return LineItem{}, Invalid(param+"[price]", "send price or price_data, not both")
	case lp.Price != "" && lp.stored == nil:
		return LineItem{}, NoSuchPrice(param+"[price]", lp.Price)
	case lp.Price != "":
		return lp.buildStored(param, currency)
	case lp.PriceData == nil:
		return LineItem{}, Invalid(param+"[price_data]", "price or price_data is required")
	}
	pd := lp.PriceData
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
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(img) > MaxURLLength || !IsText(img) {
			return LineItem{}, Invalid(fmt.Sprintf("%s[price_data][product_data][images][%d]", param, j), "images must be absolute https URLs")
		}
	}
	if lp.Quantity < 1 || lp.Quantity > 1_000_000 {
		return LineItem{}, Invalid(param+"[quantity]", "quantity must be between 1 and 1000000")
	}
	if lp.TaxAmount < 0 || lp.TaxAmount > MaxAmount {
		return LineItem{}, Invalid(param+"[tax_amount]", "tax_amount must be between 0 and %d", MaxAmount)
	}
	if !PlainText(pd.ProductData.UnitLabel, 12) {
		return LineItem{}, Invalid(param+"[price_data][product_data][unit_label]", "unit_label must be at most 12 characters of text")
	}
	if err := textParam(param+"[price_data][lookup_key]", pd.LookupKey, 200); err != nil {
		return LineItem{}, err
	}
	if err := validateMetadata(param+"[metadata]", lp.Metadata); err != nil {
		return LineItem{}, err
	}
	li := LineItem{
		ID: newID("li_"), PriceID: newID("price_"), ProductID: newID("prod_"),
		Name: pd.ProductData.Name, Description: pd.ProductData.Description,
		Images: pd.ProductData.Images, Quantity: lp.Quantity, UnitAmount: *pd.UnitAmount, AmountTax: lp.TaxAmount,
		Metadata: lp.Metadata, UnitLabel: pd.ProductData.UnitLabel, LookupKey: pd.LookupKey,
	}
	if li.Metadata == nil {
		li.Metadata = Metadata{}
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

// buildStored is build for a line item naming a stored price: the price's
// product, amount and interval, under the price's own ids.
func (lp LineItemParams) buildStored(param, currency string) (LineItem, error) {
	sp := lp.stored
	if sp.Currency != currency {
		return LineItem{}, Invalid(param+"[price]", "price %s is in %s; every line item must use the session's currency %q", lp.Price, sp.Currency, currency)
	}
	unit := sp.UnitAmount
	inline := LineItemParams{Quantity: lp.Quantity, TaxAmount: lp.TaxAmount, Metadata: lp.Metadata, PriceData: &PriceData{
		UnitAmount: &unit, LookupKey: sp.LookupKey,
		ProductData: &ProductData{Name: sp.Name, Description: sp.Description, Images: sp.Images, UnitLabel: sp.UnitLabel},
	}}
	if sp.Interval != "" {
		inline.PriceData.Recurring = &Recurring{Interval: sp.Interval, IntervalCount: sp.Count}
	}
	li, err := inline.build(param, currency)
	if err != nil {
		return LineItem{}, err
	}
	li.PriceID, li.ProductID = sp.PriceID, sp.ProductID
	return li, nil
}
