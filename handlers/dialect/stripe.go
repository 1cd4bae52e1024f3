package dialect

import (
	"strconv"

	"github.com/paypage/paypage/store"
)

// Stripe is the strict Stripe dialect, for Stripe's clients (any request
// with a Stripe-Version header) and merchants who pin a Stripe version:
// every object valid against Stripe's published schema (docs/stripe),
// every property Stripe always sends present, null where paypage has no
// such thing. paypage's states are mapped onto Stripe's words the way Stripe
// reports the same situation (stripeStates; docs/api-versions.md has the
// table), and the true state stays readable in the "paypage" member, which
// Stripe's clients ignore.
var Stripe = &Dialect{
	Name:           "stripe",
	Session:        func(v *View) any { return stripeSession(v) },
	LineItem:       func(v *View, li store.LineItem) any { return stripeLineItem(v.Session, li, v.Expand.Products) },
	Expandable:     []string{"line_items", "line_items.data.price.product"},
	ItemExpandable: []string{"data.price.product"},
	Error:          StripeError,
}

// StripeLocales are the locales Stripe Checkout takes, besides "auto".
var StripeLocales = []string{"bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil",
	"fr", "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR",
	"ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW"}

// StripeUIModes are Stripe's ui_mode values; paypage serves hosted pages
// only ("hosted" is the older name of "hosted_page").
var StripeUIModes = []string{"hosted_page", "embedded_page", "elements", "form"}

// stripeStates maps a session's state onto Stripe's status and
// payment_status, as Stripe reports the same situation:
//   - processing: Stripe completes a session once the shopper submitted an
//     asynchronous payment that is still settling (complete, unpaid); while
//     the shopper must still act (3-D Secure, next_action set) it is open.
//   - a declined attempt leaves the session open and unpaid (failed).
//   - refunds and disputes (a reversal) do not change a Stripe session: it
//     stays complete and paid.
//   - canceled has no Stripe status; the nearest is expired: the session can
//     no longer be paid, and its url is gone.
func stripeStates(s *store.Session) (status, payment string) {
	payment = "unpaid"
	switch s.PaymentStatus {
	case store.PaymentNoPaymentRequired:
		payment = "no_payment_required"
	case store.PaymentPaid, store.PaymentPartiallyRefunded, store.PaymentRefunded, store.PaymentReversed:
		payment = "paid"
	}
	switch s.Status {
	case store.StatusOpen:
		return "open", payment
	case store.StatusProcessing:
		if s.NextAction != nil {
			return "open", payment
		}
		return "complete", payment
	case store.StatusComplete:
		return "complete", payment
	}
	return "expired", payment // expired, canceled
}

// stripeSessionObject is a checkout.session exactly as Stripe's schema has
// it (API 2026-07-29): nullable properties are always sent.
type stripeSessionObject struct {
	ID                                string                  `json:"id"`
	Object                            string                  `json:"object"`
	AdaptivePricing                   any                     `json:"adaptive_pricing"`
	AfterExpiration                   *stripeAfterExpiration  `json:"after_expiration"`
	AllowPromotionCodes               *bool                   `json:"allow_promotion_codes"`
	AmountSubtotal                    int64                   `json:"amount_subtotal"`
	AmountTotal                       int64                   `json:"amount_total"`
	AutomaticTax                      stripeAutomaticTax      `json:"automatic_tax"`
	BillingAddressCollection          *string                 `json:"billing_address_collection"`
	CancelURL                         *string                 `json:"cancel_url"`
	ClientReferenceID                 *string                 `json:"client_reference_id"`
	ClientSecret                      *string                 `json:"client_secret"`
	CollectedInformation              any                     `json:"collected_information"`
	Consent                           any                     `json:"consent"`
	ConsentCollection                 any                     `json:"consent_collection"`
	Created                           int64                   `json:"created"`
	Currency                          string                  `json:"currency"`
	CurrencyConversion                any                     `json:"currency_conversion"`
	CustomFields                      []any                   `json:"custom_fields"`
	CustomText                        customTextObject        `json:"custom_text"`
	Customer                          *string                 `json:"customer"`
	CustomerAccount                   *string                 `json:"customer_account"`
	CustomerCreation                  *string                 `json:"customer_creation"`
	CustomerDetails                   *stripeCustomerDetails  `json:"customer_details"`
	CustomerEmail                     *string                 `json:"customer_email"`
	Discounts                         []any                   `json:"discounts"`
	ExpiresAt                         int64                   `json:"expires_at"`
	IntegrationIdentifier             *string                 `json:"integration_identifier"`
	Invoice                           *string                 `json:"invoice"`
	InvoiceCreation                   any                     `json:"invoice_creation"`
	LineItems                         *List[stripeItemObject] `json:"line_items,omitempty"`
	Livemode                          bool                    `json:"livemode"`
	Locale                            *string                 `json:"locale"`
	ManagedPayments                   any                     `json:"managed_payments"`
	Metadata                          store.Metadata          `json:"metadata"`
	Mode                              string                  `json:"mode"`
	OriginContext                     *string                 `json:"origin_context"`
	PaymentIntent                     *string                 `json:"payment_intent"`
	PaymentLink                       *string                 `json:"payment_link"`
	PaymentMethodCollection           *string                 `json:"payment_method_collection"`
	PaymentMethodConfigurationDetails any                     `json:"payment_method_configuration_details"`
	PaymentMethodOptions              any                     `json:"payment_method_options"`
	PaymentMethodTypes                []string                `json:"payment_method_types"`
	PaymentStatus                     string                  `json:"payment_status"`
	Permissions                       any                     `json:"permissions"`
	RecoveredFrom                     *string                 `json:"recovered_from"`
	ReturnURL                         string                  `json:"return_url,omitempty"` // never null: absent when unset
	SavedPaymentMethodOptions         any                     `json:"saved_payment_method_options"`
	SetupIntent                       *string                 `json:"setup_intent"`
	ShippingAddressCollection         any                     `json:"shipping_address_collection"`
	ShippingCost                      any                     `json:"shipping_cost"`
	ShippingOptions                   []any                   `json:"shipping_options"`
	Status                            string                  `json:"status"`
	SubmitType                        *string                 `json:"submit_type"`
	Subscription                      *string                 `json:"subscription"`
	SuccessURL                        *string                 `json:"success_url"`
	TotalDetails                      totalDetails            `json:"total_details"`
	UIMode                            string                  `json:"ui_mode"`
	URL                               *string                 `json:"url"`
	WalletOptions                     store.WalletOptions     `json:"wallet_options"`
	Paypage                           stripePaypageObject     `json:"paypage"`
}

// stripePaypageObject is what paypage knows beyond Stripe's words, for
// clients that read the raw JSON.
type stripePaypageObject struct {
	Status         string      `json:"status"`
	PaymentStatus  string      `json:"payment_status"`
	Version        int64       `json:"version"`
	Locale         string      `json:"locale"`
	AmountRefunded int64       `json:"amount_refunded"`
	Fees           []feeObject `json:"fees"`
	FailureReason  *string     `json:"failure_reason"`
	FailureMessage *string     `json:"failure_message"`
	Provider       *string     `json:"provider"`
	PaymentMethod  *string     `json:"payment_method"`
	PendingURL     *string     `json:"pending_url"`
	SettledBy      *string     `json:"settled_by"`
}

type stripeAfterExpiration struct {
	Recovery stripeRecovery `json:"recovery"`
}

type stripeRecovery struct {
	AllowPromotionCodes bool    `json:"allow_promotion_codes"`
	Enabled             bool    `json:"enabled"`
	ExpiresAt           *int64  `json:"expires_at"`
	URL                 *string `json:"url"`
}

type stripeAutomaticTax struct {
	Enabled   bool `json:"enabled"`
	Liability any  `json:"liability"`
	Provider  any  `json:"provider"`
	Status    any  `json:"status"`
}

type stripeCustomerDetails struct {
	Address        *addressObject `json:"address"`
	BusinessName   *string        `json:"business_name"`
	Email          *string        `json:"email"`
	IndividualName *string        `json:"individual_name"`
	Name           *string        `json:"name"`
	Phone          *string        `json:"phone"`
	TaxExempt      *string        `json:"tax_exempt"`
	TaxIDs         []any          `json:"tax_ids"`
}

// stripeItemObject is Stripe's "item".
type stripeItemObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	AdjustableQuantity any               `json:"adjustable_quantity"`
	AmountDiscount     int64             `json:"amount_discount"`
	AmountSubtotal     int64             `json:"amount_subtotal"`
	AmountTax          int64             `json:"amount_tax"`
	AmountTotal        int64             `json:"amount_total"`
	Currency           string            `json:"currency"`
	Description        string            `json:"description"`
	Metadata           store.Metadata    `json:"metadata"`
	Price              stripePriceObject `json:"price"`
	Quantity           int64             `json:"quantity"`
}

type stripePriceObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Active            bool              `json:"active"`
	BillingScheme     string            `json:"billing_scheme"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	CustomUnitAmount  any               `json:"custom_unit_amount"`
	Livemode          bool              `json:"livemode"`
	LookupKey         *string           `json:"lookup_key"`
	Metadata          map[string]string `json:"metadata"`
	Nickname          *string           `json:"nickname"`
	Product           any               `json:"product"` // its id, or the object when expanded
	Recurring         *stripeRecurring  `json:"recurring"`
	TaxBehavior       string            `json:"tax_behavior"`
	TiersMode         *string           `json:"tiers_mode"`
	TransformQuantity any               `json:"transform_quantity"`
	Type              string            `json:"type"`
	UnitAmount        int64             `json:"unit_amount"`
	UnitAmountDecimal string            `json:"unit_amount_decimal"`
}

type stripeRecurring struct {
	Interval        string  `json:"interval"`
	IntervalCount   int     `json:"interval_count"`
	Meter           *string `json:"meter"`
	TrialPeriodDays *int    `json:"trial_period_days"`
	UsageType       string  `json:"usage_type"`
}

type stripeProductObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Active            bool              `json:"active"`
	Created           int64             `json:"created"`
	Description       *string           `json:"description"`
	Images            []string          `json:"images"`
	Livemode          bool              `json:"livemode"`
	MarketingFeatures []any             `json:"marketing_features"`
	Metadata          map[string]string `json:"metadata"`
	Name              string            `json:"name"`
	PackageDimensions any               `json:"package_dimensions"`
	Shippable         *bool             `json:"shippable"`
	Type              string            `json:"type"`
	UnitLabel         *string           `json:"unit_label"`
	Updated           int64             `json:"updated"`
	URL               *string           `json:"url"`
}

func stripeSession(v *View) *stripeSessionObject {
	s := v.Session
	status, payment := stripeStates(s)
	o := &stripeSessionObject{
		ID: s.ID, Object: "checkout.session",
		AfterExpiration: &stripeAfterExpiration{Recovery: stripeRecovery{Enabled: s.RecoveryEnabled}},
		AmountSubtotal:  s.AmountSubtotal, AmountTotal: s.AmountTotal,
		CancelURL: Nullable(s.CancelURL), ClientReferenceID: Nullable(s.ClientReferenceID),
		Created: s.Created, Currency: s.Currency, CustomFields: []any{}, CustomText: customText(s.CustomText),
		Customer: Nullable(s.CustomerID), CustomerDetails: stripeDetails(s.Customer),
		CustomerEmail: Nullable(s.Customer.Email), Discounts: []any{}, ExpiresAt: s.ExpiresAt,
		Livemode: s.Livemode, Locale: stripeLocale(s.Locale), Metadata: OrEmpty(s.Metadata), Mode: s.Mode,
		PaymentIntent: Nullable(s.PaymentIntent), PaymentMethodTypes: s.PaymentMethodTypes,
		PaymentStatus: payment, RecoveredFrom: Nullable(s.ParentID), ReturnURL: s.ReturnURL,
		ShippingOptions: []any{}, Status: status, SuccessURL: Nullable(s.SuccessURL),
		TotalDetails: totalDetails{AmountDiscount: s.AmountDiscount, AmountShipping: s.AmountShipping, AmountTax: s.AmountTax},
		UIMode:       "hosted_page", WalletOptions: s.WalletOptions,
		Paypage: stripePaypageObject{
			Status: s.Status, PaymentStatus: s.PaymentStatus, Version: s.Version, Locale: s.Locale,
			AmountRefunded: s.AmountRefunded, Fees: fees(s), FailureReason: Nullable(s.FailureReason),
			FailureMessage: Nullable(s.FailureMessage), Provider: Nullable(s.Provider),
			PaymentMethod: Nullable(s.PaymentMethod), PendingURL: Nullable(s.PendingURL),
			SettledBy: Nullable(s.SettledBy),
		},
		SubmitType: Nullable(s.SubmitType), BillingAddressCollection: Nullable(s.BillingAddressCollection),
		CustomerCreation: Nullable(s.CustomerCreation),
	}
	if status == "open" {
		o.URL = Nullable(v.PageURL()) // Stripe's url lives while the session is open
	}
	if s.Status == store.StatusExpired && s.RecoveryEnabled && s.SettledBy == "" {
		// The expired session's page offers a new checkout, for as long as
		// its recovery window lasts (and until a recovery was paid).
		until := s.RecoveryEnds()
		o.AfterExpiration.Recovery.ExpiresAt, o.AfterExpiration.Recovery.URL = &until, Nullable(v.PageURL())
	}
	if o.PaymentMethodTypes == nil {
		o.PaymentMethodTypes = []string{}
	}
	if len(o.WalletOptions) == 0 {
		o.WalletOptions = nil
	}
	if v.Expand.LineItems {
		items := make([]stripeItemObject, 0, len(s.LineItems))
		for _, li := range s.LineItems {
			items = append(items, stripeLineItem(s, li, v.Expand.Products))
		}
		o.LineItems = NewList("/v1/checkout/sessions/"+s.ID+"/line_items", items, false)
	}
	return o
}

// stripeLocale is the session's locale when Stripe has it, else null (the
// true one is in paypage.locale).
func stripeLocale(l string) *string {
	if l == "auto" || oneOf(l, StripeLocales...) {
		return &l
	}
	return nil
}

func stripeDetails(c store.Customer) *stripeCustomerDetails {
	if c == (store.Customer{}) {
		return nil
	}
	return &stripeCustomerDetails{
		Address: address(c.Address), Email: Nullable(c.Email), Name: Nullable(c.Name()), Phone: Nullable(c.Phone),
	}
}

func stripeLineItem(s *store.Session, li store.LineItem, expandProduct bool) stripeItemObject {
	p := stripePriceObject{
		ID: li.PriceID, Object: "price", Active: true, BillingScheme: "per_unit", Created: s.Created,
		Currency: s.Currency, Livemode: s.Livemode, Metadata: map[string]string{}, Product: li.ProductID,
		LookupKey:   Nullable(li.LookupKey),
		TaxBehavior: "unspecified", Type: "one_time", UnitAmount: li.UnitAmount,
		UnitAmountDecimal: strconv.FormatInt(li.UnitAmount, 10),
	}
	if li.RecurringInterval != "" {
		p.Type = "recurring"
		p.Recurring = &stripeRecurring{Interval: li.RecurringInterval, IntervalCount: li.RecurringIntervalCount, UsageType: "licensed"}
	}
	if expandProduct {
		images := li.Images
		if images == nil {
			images = []string{}
		}
		p.Product = stripeProductObject{
			ID: li.ProductID, Object: "product", Active: true, Created: s.Created, Description: Nullable(li.Description),
			Images: images, Livemode: s.Livemode, MarketingFeatures: []any{}, Metadata: map[string]string{},
			Name: li.Name, Type: "service", UnitLabel: Nullable(li.UnitLabel), Updated: s.Created,
		}
	}
	return stripeItemObject{
		ID: li.ID, Object: "item", AmountDiscount: li.AmountDiscount, AmountSubtotal: li.AmountSubtotal,
		AmountTax: li.AmountTax, AmountTotal: li.AmountTotal, Currency: s.Currency, Description: li.Name,
		Metadata: OrEmpty(li.Metadata), Price: p, Quantity: li.Quantity,
	}
}
