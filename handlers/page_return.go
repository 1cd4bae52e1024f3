package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

// The return pages show the stored state, whatever their URL claims: a
// shopper (or a forged link) on /success of an unpaid session sees that it
// is unpaid.

// successPage is GET /pay/:id/success.
func (h *handler) successPage(c *fiber.Ctx) error { return h.sessionPage(c, views.ReturnSuccess) }

// cancelPage is GET /pay/:id/cancel.
func (h *handler) cancelPage(c *fiber.Ctx) error { return h.sessionPage(c, views.ReturnCancel) }

// pendingPage is GET /pay/:id/pending: it waits for the outcome and, once
// paid, moves on to the merchant (or stays on the hosted receipt).
func (h *handler) pendingPage(c *fiber.Ctx) error { return h.sessionPage(c, views.ReturnPending) }

// stayParam reads ?stay=1, the "Stay on this page" link of a settled return
// page: the shopper stays rather than being taken on to the merchant.
func stayParam(c *fiber.Ctx) (bool, error) {
	switch c.Query("stay") {
	case "":
		return false, nil
	case "1":
		return true, nil
	}
	return false, store.Invalid("stay", "stay must be 1")
}
