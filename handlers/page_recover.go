package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// recoverPage is POST /pay/:id/recover: an expired session whose merchant
// allows it is restarted as a new child session, and the shopper goes there.
// A second click finds the open child instead of making another (the
// store decides, atomically).
func (h *handler) recoverPage(c *fiber.Ctx) error {
	sess, _, err := h.pageSession(c)
	if err != nil {
		return err
	}
	child, err := h.store.Recover(c.UserContext(), sess.ID)
	if store.ErrorCode(err) == store.ESTATE {
		return c.Redirect("/pay/"+sess.ID, fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/pay/"+child.ID, fiber.StatusSeeOther)
}
