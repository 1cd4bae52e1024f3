package handlers

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Counting a request allocates nothing and takes no lock once its series
// exists: the route table is read-only and the series are cached atomics.
func TestObservingARequestDoesNotAllocate(t *testing.T) {
	h := &handler{metrics: NewMetrics()}
	app := fiber.New()
	var allocs float64
	app.Get("/pay/:id", func(c *fiber.Ctx) error {
		h.observeRequest(c, time.Millisecond) // makes the series
		allocs = testing.AllocsPerRun(1000, func() { h.observeRequest(c, time.Millisecond) })
		return nil
	})
	h.routes = h.metrics.routeTable(app)
	if _, err := app.Test(httptest.NewRequest("GET", "/pay/cs_test_x", nil)); err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("observeRequest allocates %v times per request", allocs)
	}
}
