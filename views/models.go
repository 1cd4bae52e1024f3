// Package views holds paypage's templ components and the view models they
// take. Components never touch the store; handlers build the models.
package views

// ErrorView is an error page.
type ErrorView struct {
	Status    int
	RequestID string
}

// CheckoutView is the checkout page of one session.
type CheckoutView struct {
	ID            string
	Merchant      string
	Status        string
	PaymentStatus string
	Livemode      bool
	Items         []ItemView
	Total         string
}

// ItemView is one line item, amounts formatted.
type ItemView struct {
	Name        string
	Description string
	Quantity    int64
	UnitPrice   string
	Amount      string
}
