package dialect

import "github.com/paypage/paypage/store"

// BLIK is seed 001's dialect (store.APIVersionBLIK): the BLIK provider's
// "Retrieve a Checkout Session" on Stripe's paths and Basic auth, chosen by a
// merchant's pinned version (its clients send no version header). Field
// names are the seed's table; where its example spells one otherwise
// (amount_sub_total, expire_at) both are sent, equal. Its errors are
// Stripe's envelope, as the API it mirrors.
//
// Status words: open (also after a declined attempt), pending (processing),
// completed, expired; a canceled session, which the seed has no word for,
// is expired: it can no longer be paid. Empty strings stay "" (as the
// example's cancel_url), empty fees and metadata are null, a locale that
// follows the browser is "".
var BLIK = &Dialect{
	Name:           "blik",
	Session:        func(v *View) any { return blikSession(v) },
	LineItem:       func(v *View, li store.LineItem) any { return nativeLineItem(v.Session, li) },
	Expandable:     []string{},
	ItemExpandable: []string{"data.price", "data.price.product"},
	Error:          StripeError,
}

type blikSessionObject struct {
	ID                 string         `json:"id"`
	Object             string         `json:"object"`
	AmountTotal        int64          `json:"amount_total"`
	AmountSubtotal     int64          `json:"amount_subtotal"`
	AmountSubTotal     int64          `json:"amount_sub_total"`
	Currency           string         `json:"currency"`
	SuccessURL         string         `json:"success_url"`
	CancelURL          string         `json:"cancel_url"`
	CustomerFirstname  string         `json:"customer_firstname"`
	CustomerLastname   string         `json:"customer_lastname"`
	CustomerEmail      string         `json:"customer_email"`
	CustomerIP         string         `json:"customer_ip"`
	ExpiresAt          int64          `json:"expires_at"`
	ExpireAt           int64          `json:"expire_at"`
	Locale             string         `json:"locale"`
	PaymentMethodTypes []string       `json:"payment_method_types"`
	Metadata           store.Metadata `json:"metadata"` // null when empty
	CreatedAt          int64          `json:"created_at"`
	Status             string         `json:"status"`
	Fees               []feeObject    `json:"fees"` // null when empty
	Livemode           bool           `json:"livemode"`
	URL                string         `json:"url"`
}

func blikSession(v *View) *blikSessionObject {
	s := v.Session
	o := &blikSessionObject{
		ID: s.ID, Object: "checkout.session", AmountTotal: s.AmountTotal, AmountSubtotal: s.AmountSubtotal,
		AmountSubTotal: s.AmountSubtotal, Currency: s.Currency, SuccessURL: s.SuccessURL, CancelURL: s.CancelURL,
		CustomerFirstname: s.Customer.FirstName, CustomerLastname: s.Customer.LastName,
		CustomerEmail: s.Customer.Email, CustomerIP: s.Customer.IPAddress, ExpiresAt: s.ExpiresAt,
		ExpireAt: s.ExpiresAt, Locale: s.Locale, PaymentMethodTypes: s.PaymentMethodTypes,
		CreatedAt: s.Created, Status: blikStatus(s.Status), Livemode: s.Livemode, URL: v.PageURL(),
	}
	if o.Locale == "auto" {
		o.Locale = ""
	}
	if o.PaymentMethodTypes == nil {
		o.PaymentMethodTypes = []string{}
	}
	if len(s.Metadata) > 0 {
		o.Metadata = s.Metadata
	}
	if len(s.Adjustments) > 0 {
		o.Fees = fees(s)
	}
	return o
}

func blikStatus(status string) string {
	switch status {
	case store.StatusOpen:
		return "open"
	case store.StatusProcessing:
		return "pending"
	case store.StatusComplete:
		return "completed"
	}
	return "expired" // expired, canceled
}
