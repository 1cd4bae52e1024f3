package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/paypage/paypage/docs"
	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestOpenAPIDocumentIsServedWithoutAKey(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	resp, err := http.Get(srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !bytes.Equal(body, docs.OpenAPI) {
		t.Fatalf("GET /v1/openapi.json: %d %s, %d bytes (embedded: %d)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(docs.OpenAPI))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %q %v", doc.OpenAPI, err)
	}
	openAPIRouter(t, srv.URL) // loads and validates it
}

// seedPaths are the seed systems' own routes under /v1: their contract is
// their vendor's document (the README's section on each), not paypage's.
var seedPaths = map[string]bool{"GET /v1/checkouts/{id}": true}

// Every API route the server has is in the document, and nothing else is.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), storetest.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := handlers.New(st, handlers.Config{})
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/v1/") || r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		if route := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}"); !seedPaths[route] {
			served[route] = true
		}
	}
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	if !equalSets(served, documented) {
		t.Fatalf("routes and document differ:\nserved     %v\ndocumented %v", keys(served), keys(documented))
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The error answers the document promises, each provoked for real.
func TestOpenAPIErrorAnswersMatchTheDocument(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		for _, tc := range []struct {
			key, method, path, body string
			status                  int
		}{
			{"", "GET", "/v1/checkout/sessions", "", 401},
			{srv.Keys.Test, "GET", "/v1/checkout/sessions?limit=0", "", 400},
			{srv.Keys.Test, "GET", "/v1/checkout/sessions/cs_test_missing", "", 404},
			{srv.Keys.Test, "GET", "/v1/checkout/sessions/cs_test_missing/line_items", "", 404},
			{srv.Keys.Test, "POST", "/v1/checkout/sessions/cs_test_missing/expire", "", 404},
			{srv.Keys.Test, "POST", "/v1/checkout/sessions", "{}", 400},
			{srv.Keys.Test, "POST", "/v1/checkout/sessions", "currency=eur", 400},
		} {
			before := api.transport.checked.Load()
			if r := api.with(tc.key).do(tc.method, tc.path, tc.body); r.Status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Raw, tc.status)
			}
			if api.transport.checked.Load() != before+1 {
				t.Errorf("%s %s: the answer was not checked against the document", tc.method, tc.path)
			}
		}
	})
}
