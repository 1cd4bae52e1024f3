package ref

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// B2 reads a session paypage stored, on either engine, and its page is
// the size it was fitted to.
func TestB2ServesTheStoredSessionAtTheFittedSize(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		ctx := t.Context()
		s, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		m := &store.Merchant{Name: "Bench Shop", DisplayName: "Bench & Co"}
		if _, err := s.CreateMerchant(ctx, m); err != nil {
			t.Fatal(err)
		}
		unit := int64(1250)
		sess, err := s.CreateSession(ctx, m, false, &store.SessionParams{Currency: "eur",
			SuccessURL: "https://shop.example/ok",
			LineItems: []store.LineItemParams{{Quantity: 2, PriceData: &store.PriceData{Currency: "eur", UnitAmount: &unit,
				ProductData: &store.ProductData{Name: "Ceramic mug"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		b2, err := OpenB2(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer b2.Close()
		if err := b2.FitTo(ctx, sess.ID, 8000); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		app := b2.App()
		go app.Listener(ln)
		defer app.Shutdown()
		for _, tc := range []struct {
			id     string
			status int
			want   string
		}{{sess.ID, 200, "Ceramic mug"}, {"cs_test_unknown", 404, "not found"}} {
			resp, err := http.Get("http://" + ln.Addr().String() + "/pay/" + tc.id)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("GET /pay/%s: %d %.200s", tc.id, resp.StatusCode, body)
			}
			if tc.status == 200 && (len(body) != 8000 || !strings.Contains(string(body), "25.00 EUR") ||
				!strings.Contains(string(body), "Bench &amp; Co")) {
				t.Fatalf("page of %d bytes, want 8000 with the total and the escaped name:\n%.600s", len(body), body)
			}
		}
	})
}
