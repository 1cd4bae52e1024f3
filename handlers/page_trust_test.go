package handlers_test

import (
	"net/netip"
	"testing"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// TestSecureCueOnlyOverHTTPS: the page says the connection is encrypted
// when the shopper reached it over https (here: through a trusted proxy
// that terminated TLS), and not over plain http, nor when an untrusted
// client merely claims https.
func TestSecureCueOnlyOverHTTPS(t *testing.T) {
	t.Parallel()
	srv := handlertest.StartWith(t, storetest.SQLiteURL(t), func(c *handlers.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	untrusted := handlertest.Start(t, storetest.SQLiteURL(t))
	other := handlertest.CreateSession(t, untrusted, false, store.SessionParams{})
	for _, tc := range []struct {
		name, url string
		header    []string
		want      int
	}{
		{"https through a trusted proxy", srv.URL + "/pay/" + sess.ID, []string{"X-Forwarded-Proto", "https"}, 1},
		{"plain http", srv.URL + "/pay/" + sess.ID, nil, 0},
		{"https claimed by an untrusted client", untrusted.URL + "/pay/" + other.ID, []string{"X-Forwarded-Proto", "https"}, 0},
	} {
		p := getPage(t, tc.url, tc.header...)
		if n := p.testid("trust-secure").Length(); n != tc.want {
			t.Errorf("%s: %d encrypted-connection cues, want %d", tc.name, n, tc.want)
		}
	}
}
