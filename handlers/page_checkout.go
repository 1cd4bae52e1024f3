package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/views"
)

// checkoutPage is GET /pay/:id.
func (h *handler) checkoutPage(c *fiber.Ctx) error {
	sess, err := h.store.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	m, err := h.store.Merchant(c.UserContext(), sess.MerchantID)
	if err != nil {
		return err
	}
	v := views.CheckoutView{
		ID: sess.ID, Merchant: m.Appearance.Merge(sess.Appearance).DisplayName, Status: sess.Status,
		PaymentStatus: sess.PaymentStatus, Livemode: sess.Livemode, Total: formatMoney(sess.AmountTotal, sess.Currency),
	}
	if v.Merchant == "" {
		v.Merchant = m.DisplayName
	}
	for _, li := range sess.LineItems {
		v.Items = append(v.Items, views.ItemView{
			Name: li.Name, Description: li.Description, Quantity: li.Quantity,
			UnitPrice: formatMoney(li.UnitAmount, sess.Currency), Amount: formatMoney(li.AmountSubtotal, sess.Currency),
		})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.Checkout(v))
}
