// Package ref holds the reference servers paypage's benchmark harness
// measures paypage against: B1, plaintext Hello World on Fiber, the most a
// Fiber route can answer on this machine; and B2, a hand-written Fiber +
// templ + sqlx checkout page with prepared statements, reading the same
// session, line items and merchant from the same database as paypage and
// rendering a page of the same size, what /pay should cost.
package ref

import "github.com/gofiber/fiber/v2"

// B1 is the plaintext reference: GET / answers "Hello, World!".
func B1() *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("Hello, World!") })
	return app
}
