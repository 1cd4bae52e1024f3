package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/static"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// rawClient sends Accept-Encoding as the test sets it and hands back the
// bytes as they came: Go's transport would otherwise ask for gzip itself
// and undo it unseen.
var rawClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

func getEncoded(t *testing.T, url, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, body
}

// perRequest matches what a page renders anew for every request.
var perRequest = regexp.MustCompile(`(nonce|value|data-request-id)="[^"]*"|req_[A-Za-z0-9_-]+`)

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "":
		return body
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", encoding, err)
	}
	return out
}

// TestCompressionFollowsAcceptEncoding fetches pages, static assets and the
// 404 page as brotli, gzip and identity clients: each gets the coding it
// accepts (brotli first), Vary: Accept-Encoding always, and the same bytes
// once decoded.
func TestCompressionFollowsAcceptEncoding(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	paths := map[string]string{
		"checkout page": "/pay/" + sess.ID,
		"app.css":       static.Path("app.css"),
		"checkout.js":   static.Path("checkout.js"),
		"live.js":       static.Path("live.js"),
		"404 page":      "/pay/cs_test_nope",
	}
	clients := []struct{ accept, want string }{
		{"br, gzip, deflate", "br"},
		{"gzip, deflate", "gzip"},
		{"gzip;q=1.0, br;q=0", "gzip"},
		{"*", "br"},
		{"", ""},
		{"identity", ""},
		{"br;q=0, gzip;q=0", ""},
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, plain := getEncoded(t, srv.URL+path, "")
			if len(plain) < 1000 {
				t.Fatalf("identity body is %d bytes: not what this test means to compress", len(plain))
			}
			for _, cl := range clients {
				resp, body := getEncoded(t, srv.URL+path, cl.accept)
				enc := resp.Header.Get("Content-Encoding")
				if enc != cl.want {
					t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", cl.accept, enc, cl.want)
				}
				if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Accept-Encoding %q: Vary %q lacks Accept-Encoding", cl.accept, resp.Header.Get("Vary"))
				}
				got := decode(t, enc, body)
				if name == "checkout page" || name == "404 page" {
					// Pages carry a fresh nonce and CSRF token each time: compare around them.
					got, plain = perRequest.ReplaceAll(got, nil), perRequest.ReplaceAll(plain, nil)
				} else if enc != "" && len(body) >= len(plain) {
					t.Errorf("Accept-Encoding %q: %d bytes, not smaller than %d", cl.accept, len(body), len(plain))
				}
				if !bytes.Equal(got, plain) {
					t.Errorf("Accept-Encoding %q: decoded body differs from identity", cl.accept)
				}
			}
		})
	}
}

// TestCompressionLeavesTheEventStreamAlone opens the live-update stream as
// a client that accepts brotli and gzip: it comes uncompressed, and its
// first event arrives at once rather than waiting in a compressor.
func TestCompressionLeavesTheEventStreamAlone(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{})
	req, _ := http.NewRequest("GET", srv.URL+"/pay/"+sess.ID+"/events", nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("event stream sent with Content-Encoding %q", enc)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "id:") && !strings.HasPrefix(line, "event:") && !strings.HasPrefix(line, "retry:") && !strings.HasPrefix(line, ":") {
		t.Fatalf("first line of the stream: %q, %v", line, err)
	}
}
