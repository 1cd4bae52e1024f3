package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// t0 is where every test clock starts: a fixed instant, so that expiry is
// exact and tests never depend on the wall clock.
var t0 = time.Unix(1_900_000_000, 0)

// clock is an injectable Store.Now, safe for the racing goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Unix is the clock's time in unix seconds, the store's unit.
func (c *clock) Unix() int64 { return c.Now().Unix() }

// newStore opens and migrates a fresh database with a clock stopped at t0.
func newStore(t *testing.T, url string) (*store.Store, *clock) {
	t.Helper()
	storetest.Migrated(t, url)
	s, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{now: t0}
	s.Now = c.Now
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s, c
}

// newMerchant creates a merchant, after edit (if any) adjusted it.
func newMerchant(t *testing.T, s *store.Store, edit func(*store.Merchant)) (*store.Merchant, store.Keys) {
	t.Helper()
	m := &store.Merchant{Name: "Shop", RedirectHosts: store.StringList{"shop.example"}}
	if edit != nil {
		edit(m)
	}
	keys, err := s.CreateMerchant(t.Context(), m)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m, keys
}

func ptr[T any](v T) *T { return &v }

// item is a one-time line item priced in EUR.
func item(name string, quantity, unit int64) store.LineItemParams {
	return store.LineItemParams{Quantity: quantity, PriceData: &store.PriceData{
		Currency: "eur", UnitAmount: ptr(unit), ProductData: &store.ProductData{Name: name},
	}}
}

// validParams is the smallest valid session: 2 × 15.00 EUR.
func validParams() *store.SessionParams {
	return &store.SessionParams{
		Currency:   "eur",
		LineItems:  []store.LineItemParams{item("T-shirt", 2, 1500)},
		SuccessURL: "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
		CancelURL:  "https://shop.example/cart",
	}
}

func createSession(t *testing.T, s *store.Store, m *store.Merchant, livemode bool, p *store.SessionParams) *store.Session {
	t.Helper()
	sess, err := s.CreateSession(t.Context(), m, livemode, p)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return sess
}

func getSession(t *testing.T, s *store.Store, id string) *store.Session {
	t.Helper()
	sess, err := s.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("get session %s: %v", id, err)
	}
	return sess
}

func transition(t *testing.T, s *store.Store, id string, tr store.Transition) *store.Session {
	t.Helper()
	if tr.Source == "" {
		tr.Source = "test"
	}
	sess, err := s.Transition(t.Context(), id, tr)
	if err != nil {
		t.Fatalf("%s %s: %v", tr.Action, id, err)
	}
	return sess
}

func events(t *testing.T, s *store.Store, id string) []store.Event {
	t.Helper()
	evs, err := s.Events(t.Context(), id)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return evs
}

// countRows counts a table's rows, optionally narrowed by a where clause
// written with ? placeholders.
func countRows(t *testing.T, s *store.Store, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := s.DB().GetContext(t.Context(), &n, s.DB().Rebind(q), args...); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// wantCode fails t unless err carries the domain error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := store.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// wantInvalid fails t unless err is an EINVALID *store.Error naming param.
func wantInvalid(t *testing.T, err error, param string) {
	t.Helper()
	var e *store.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *store.Error", err, err)
	}
	if e.Code != store.EINVALID || e.Param != param {
		t.Fatalf("err = {Code:%q Param:%q Message:%q}, want Code %q Param %q", e.Code, e.Param, e.Message, store.EINVALID, param)
	}
}

// sessionDiff lists the fields in which two sessions differ, for a failure
// message that says more than "not equal".
func sessionDiff(got, want *store.Session) string {
	var b strings.Builder
	gv, wv := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\n  %s: got %s, want %s", gv.Type().Field(i).Name, show(g), show(w))
		}
	}
	return b.String()
}

// show prints pointers by what they point to.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("&%+v", rv.Elem().Interface())
	}
	if r, ok := v.(store.RawJSON); ok {
		return fmt.Sprintf("%q", string(r))
	}
	return fmt.Sprintf("%#v", v)
}

func wantSameSession(t *testing.T, got, want *store.Session) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sessions differ:%s", sessionDiff(got, want))
	}
}
