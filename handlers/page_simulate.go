package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// simulatePage is POST /pay/:id/simulate, the test-mode panel: it applies
// the chosen outcome through the store's one transition function, exactly
// as a provider's payment event would, and shows where that leads.
func (h *handler) simulatePage(c *fiber.Ctx) error {
	sess, _, err := h.pageSession(c)
	if err != nil {
		return err
	}
	if sess.Livemode {
		return errNotFound // live payments are settled by the provider only
	}
	base := "/pay/" + sess.ID
	t := store.Transition{Source: "test_panel", PaymentMethod: "card", Provider: "paypage-test"}
	next := base
	switch c.FormValue("outcome") {
	case "succeed":
		t.Action, t.PaymentIntent = store.ActionSucceed, "pi_test_"+randomToken(12)
		next = base + "/success"
		if sess.Status == store.StatusProcessing {
			next = base + "/pending" // the page the shopper waited on shows the outcome
		}
	case "decline":
		t.Action, t.FailureReason, t.FailureMessage = store.ActionFail, "card_declined", "Your card was declined."
	case "confirm":
		t.Action = store.ActionProcess
		next = base + "/pending"
	default:
		return store.Invalid("outcome", "outcome must be succeed, decline or confirm")
	}
	_, err = h.store.Transition(c.UserContext(), sess.ID, t)
	if store.ErrorCode(err) == store.ESTATE {
		// The session moved on meanwhile (paid in another tab, expired…):
		// its page shows what it is now.
		return c.Redirect(base, fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}
