package store

import (
	"context"
	"fmt"
	"time"
)

// DemoSession names one seeded session and the state it shows.
type DemoSession struct {
	Label string
	ID    string
}

// Demo is what SeedDemo created: the merchant, its keys and its sessions.
type Demo struct {
	Merchant *Merchant
	Keys     Keys
	Sessions []DemoSession
}

// fullRefund marks a demo refund of the whole (computed) total.
const fullRefund = -1

// SeedDemo creates a fresh demo merchant with one test-mode session in every
// state, each reached through the real creation and transition paths.
func (s *Store) SeedDemo(ctx context.Context) (*Demo, error) {
	m := &Merchant{
		Name: "Demo Coffee Roasters", DisplayName: "Demo Coffee Roasters",
		AllowedOrigins: StringList{"http://127.0.0.1:8081", "http://localhost:8081"},
		SupportEmail:   "support@demo.example", SupportURL: "https://demo.example/help",
		TermsURL: "https://demo.example/terms", PrivacyURL: "https://demo.example/privacy",
		DefaultLocale: "en", RecoveryEnabled: true,
		Appearance: Appearance{BrandColor: "#6b3e26", ButtonColor: "#1d6f42", BackgroundColor: "#fbf7f2",
			BorderStyle: "rounded", FontFamily: "system", Theme: "auto"},
	}
	keys, err := s.CreateMerchant(ctx, m)
	if err != nil {
		return nil, err
	}
	d := &Demo{Merchant: m, Keys: keys}
	amount := func(v int64) *int64 { return &v }
	coffee := func(currency string, unit int64) SessionParams {
		return SessionParams{
			Currency: currency, ClientReferenceID: "ORDER-1042", CustomerEmail: "ada@example.com",
			CustomerDetails: &Customer{FirstName: "Ada", LastName: "Lovelace", IPAddress: "203.0.113.7",
				Address: Address{Line1: "12 Analytical St", City: "London", PostalCode: "N1 9GU", Country: "GB"}},
			LineItems: []LineItemParams{
				{Quantity: 2, PriceData: &PriceData{UnitAmount: amount(unit), ProductData: &ProductData{
					Name: "Ethiopia Yirgacheffe, 250 g", Description: "Washed, light roast: jasmine and bergamot"}}},
				{Quantity: 1, PriceData: &PriceData{UnitAmount: amount(unit * 3 / 2), ProductData: &ProductData{
					Name: "Monthly espresso subscription", Description: "1 kg each month"},
					Recurring: &Recurring{Interval: "month", IntervalCount: 1}}},
			},
			Fees: []AdjustmentParams{
				{Type: AdjustShipping, Label: "Standard shipping", Amount: unit / 4},
				{Type: AdjustDiscount, Label: "WELCOME10", Amount: unit / 5},
				{Type: AdjustTax, Label: "VAT 20%", Amount: unit / 2},
			},
			SuccessURL: "https://demo.example/thanks?session={CHECKOUT_SESSION_ID}",
			CancelURL:  "https://demo.example/cart", PendingURL: "https://demo.example/order-pending",
			Metadata:    map[string]string{"order_id": "1042"},
			Attribution: map[string]string{"utm_source": "newsletter", "utm_campaign": "autumn"},
		}
	}
	type step struct {
		label    string
		params   SessionParams
		actions  []Transition
		expireAt time.Duration // when set, the session is created that long ago with a one-hour expiry
	}
	succeed := Transition{Action: ActionSucceed, Source: "demo", PaymentMethod: "card", Provider: "paypage-test", PaymentIntent: "pi_demo"}
	free := coffee("eur", 0)
	free.LineItems, free.Fees = free.LineItems[:1], nil
	steps := []step{
		{label: "open, unpaid (EUR)", params: coffee("eur", 1450)},
		{label: "open, unpaid (JPY, no minor units)", params: coffee("jpy", 1800)},
		{label: "open, unpaid (KWD, three decimals)", params: coffee("kwd", 4500)},
		{label: "payment failed, retry possible", params: coffee("eur", 1450), actions: []Transition{
			{Action: ActionFail, Source: "demo", FailureReason: "card_declined", FailureMessage: "Your card was declined."}}},
		{label: "processing (needs confirmation)", params: coffee("usd", 1600), actions: []Transition{
			{Action: ActionProcess, Source: "demo", PaymentMethod: "card", Provider: "paypage-test"}}},
		{label: "complete, paid", params: coffee("gbp", 1300), actions: []Transition{succeed}},
		{label: "complete, partially refunded", params: coffee("eur", 1450), actions: []Transition{succeed,
			{Action: ActionRefund, Source: "demo", Refund: &RefundParams{Amount: 1450, Reason: "requested_by_customer"}}}},
		{label: "complete, refunded", params: coffee("eur", 1000), actions: []Transition{succeed,
			{Action: ActionRefund, Source: "demo", Refund: &RefundParams{Amount: fullRefund, Reason: "duplicate"}}}},
		{label: "no payment required", params: free},
		{label: "canceled", params: coffee("eur", 1450), actions: []Transition{{Action: ActionCancel, Source: "demo"}}},
		{label: "expired (recoverable)", params: coffee("eur", 1450), expireAt: 2 * time.Hour},
	}
	for _, st := range steps {
		p := st.params
		creator := s
		if st.expireAt > 0 {
			past := *s
			then := s.now().Add(-st.expireAt)
			past.Now = func() time.Time { return then }
			p.ExpiresAt = then.Add(time.Hour).Unix()
			creator = &past
		}
		sess, err := creator.CreateSession(ctx, m, false, &p)
		if err != nil {
			return nil, fmt.Errorf("store: demo %s: %w", st.label, err)
		}
		for _, t := range st.actions {
			if t.Refund != nil && t.Refund.Amount == fullRefund {
				t.Refund = &RefundParams{Amount: sess.AmountTotal, Reason: t.Refund.Reason}
			}
			if _, err := s.Transition(ctx, sess.ID, t); err != nil {
				return nil, fmt.Errorf("store: demo %s: %w", st.label, err)
			}
		}
		d.Sessions = append(d.Sessions, DemoSession{Label: st.label, ID: sess.ID})
	}
	if _, err := s.SweepExpired(ctx); err != nil {
		return nil, err
	}
	return d, nil
}
