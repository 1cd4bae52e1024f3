package handlers

import (
	"github.com/paypage/paypage/store"
)

// sessionObject renders a session as Stripe's "checkout.session" object.
func (h *handler) sessionObject(s *store.Session) map[string]any {
	customer := any(nil)
	if s.CustomerID != "" {
		customer = s.CustomerID
	}
	details := map[string]any{
		"email": nullable(s.Customer.Email), "name": nullable(s.Customer.Name()),
		"first_name": nullable(s.Customer.FirstName), "last_name": nullable(s.Customer.LastName),
		"phone": nullable(s.Customer.Phone), "ip_address": nullable(s.Customer.IPAddress),
		"address": s.Customer.Address,
	}
	url := any(nil)
	if s.Status == store.StatusOpen {
		url = h.cfg.BaseURL + "/pay/" + s.ID
	}
	return map[string]any{
		"id":                   s.ID,
		"object":               "checkout.session",
		"livemode":             s.Livemode,
		"mode":                 s.Mode,
		"status":               s.Status,
		"payment_status":       s.PaymentStatus,
		"currency":             s.Currency,
		"amount_subtotal":      s.AmountSubtotal,
		"amount_total":         s.AmountTotal,
		"total_details":        map[string]any{"amount_discount": s.AmountDiscount, "amount_tax": s.AmountTax, "amount_shipping": s.AmountShipping},
		"customer":             customer,
		"customer_email":       nullable(s.Customer.Email),
		"customer_details":     details,
		"client_reference_id":  nullable(s.ClientReferenceID),
		"success_url":          nullable(s.SuccessURL),
		"cancel_url":           nullable(s.CancelURL),
		"return_url":           nullable(s.ReturnURL),
		"locale":               nullable(s.Locale),
		"metadata":             orEmpty(s.Metadata),
		"payment_method_types": s.PaymentMethodTypes,
		"payment_intent":       nullable(s.PaymentIntent),
		"created":              s.Created,
		"expires_at":           s.ExpiresAt,
		"url":                  url,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orEmpty(m store.Metadata) store.Metadata {
	if m == nil {
		return store.Metadata{}
	}
	return m
}
