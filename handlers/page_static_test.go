package handlers_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store/storetest"
)

// TestFaviconIsARealIcon: browsers ask for /favicon.ico whatever the page
// links (the embed links no icon); they get a small cached icon, not an
// HTML 404.
func TestFaviconIsARealIcon(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	resp, body := getEncoded(t, srv.URL+"/favicon.ico", "br, gzip")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /favicon.ico: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Errorf("Content-Type %q, want an image", ct)
	}
	if !bytes.HasPrefix(body, []byte{0, 0, 1, 0}) || len(body) > 4096 {
		t.Errorf("%d bytes starting % x: want a small ICO file", len(body), body[:min(len(body), 4)])
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q: want it cached", cc)
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("an icon sent with Content-Encoding %q: PNG data does not shrink", enc)
	}
}
