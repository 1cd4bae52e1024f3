package ref

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // PostgreSQL, as paypage
	_ "modernc.org/sqlite" // SQLite, as paypage
)

// The three statements of the page, prepared once: the columns the page
// shows and nothing else.
const (
	sessionSQL = `SELECT id, merchant_id, status, payment_status, currency, amount_subtotal,
		amount_total, amount_tax, amount_discount, amount_shipping, expires_at, version
		FROM checkout_sessions WHERE id = ?`
	itemsSQL = `SELECT name, description, quantity, unit_amount, amount_total
		FROM line_items WHERE session_id = ? ORDER BY position`
	merchantSQL = `SELECT name, display_name, support_email FROM merchants WHERE id = ?`
)

type sessionRow struct {
	ID             string `db:"id"`
	MerchantID     string `db:"merchant_id"`
	Status         string `db:"status"`
	PaymentStatus  string `db:"payment_status"`
	Currency       string `db:"currency"`
	AmountSubtotal int64  `db:"amount_subtotal"`
	AmountTotal    int64  `db:"amount_total"`
	AmountTax      int64  `db:"amount_tax"`
	AmountDiscount int64  `db:"amount_discount"`
	AmountShipping int64  `db:"amount_shipping"`
	ExpiresAt      int64  `db:"expires_at"`
	Version        int64  `db:"version"`
}

type itemRow struct {
	Name        string `db:"name"`
	Description string `db:"description"`
	Quantity    int64  `db:"quantity"`
	UnitAmount  int64  `db:"unit_amount"`
	AmountTotal int64  `db:"amount_total"`
}

type merchantRow struct {
	Name         string `db:"name"`
	DisplayName  string `db:"display_name"`
	SupportEmail string `db:"support_email"`
}

// B2 is the hand-written checkout page.
type B2 struct {
	db                      *sqlx.DB
	session, items, merchnt *sqlx.Stmt
	filler                  string // text that brings the page to the size asked for
}

// OpenB2 connects to paypage's database (the same URL forms paypage takes:
// postgres://… or sqlite:PATH) with paypage's pool sizes and prepares the
// page's statements.
func OpenB2(ctx context.Context, dbURL string) (*B2, error) {
	driver, dsn, maxConns := "postgres", dbURL, 20
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		driver, maxConns = "sqlite", 8
		dsn = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	b := &B2{db: db}
	for _, p := range []struct {
		stmt **sqlx.Stmt
		sql  string
	}{{&b.session, sessionSQL}, {&b.items, itemsSQL}, {&b.merchnt, merchantSQL}} {
		if *p.stmt, err = db.PreparexContext(ctx, db.Rebind(p.sql)); err != nil {
			db.Close()
			return nil, fmt.Errorf("b2: prepare: %w", err)
		}
	}
	return b, nil
}

// Close releases the database.
func (b *B2) Close() error { return b.db.Close() }

// FitTo sets the filler so that the page of session id is size bytes, as
// paypage's page of the same session is.
func (b *B2) FitTo(ctx context.Context, id string, size int) error {
	b.filler = ""
	var sb strings.Builder
	if err := b.render(ctx, &sb, id); err != nil {
		return err
	}
	if n := size - sb.Len(); n > 0 {
		b.filler = strings.Repeat("Payments are processed securely. ", n/33+1)[:n]
	}
	return nil
}

// App is the Fiber app serving GET /pay/:id.
func (b *B2) App() *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/pay/:id", func(c *fiber.Ctx) error {
		c.Type("html", "utf-8")
		err := b.render(c.UserContext(), c.Response().BodyWriter(), c.Params("id"))
		if errors.Is(err, sql.ErrNoRows) {
			return c.Status(fiber.StatusNotFound).SendString("not found")
		}
		return err
	})
	return app
}

type writer interface{ Write([]byte) (int, error) }

func (b *B2) render(ctx context.Context, w writer, id string) error {
	var s sessionRow
	if err := b.session.GetContext(ctx, &s, id); err != nil {
		return err
	}
	var items []itemRow
	if err := b.items.SelectContext(ctx, &items, id); err != nil {
		return err
	}
	var m merchantRow
	if err := b.merchnt.GetContext(ctx, &m, s.MerchantID); err != nil {
		return err
	}
	return page(s, items, m, b.filler).Render(ctx, w)
}

func money(amount int64, currency string) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, amount/100, amount%100, strings.ToUpper(currency))
}

func payURL(id string) string { return "/pay/" + url.PathEscape(id) }
