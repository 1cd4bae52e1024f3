package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/paypage/paypage/docs"
)

// openAPIDoc is docs/openapi.json, loaded and checked to be a valid OpenAPI
// 3.1 document once per test binary (each load cost a second under the race
// detector, and every API test made one).
var openAPIDoc = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load docs/openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.json is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
})

// openAPIRouter routes requests to base (the test server) through
// docs/openapi.json.
func openAPIRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	doc, err := openAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	routed := *doc // the document is shared: only the copy's servers change
	routed.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		t.Fatalf("route docs/openapi.json: %v", err)
	}
	return router
}

// validatingTransport checks every answer of the server against
// docs/openapi.json: its status must be documented for the operation, and
// its headers and body must match the documented schemas (which refuse
// undocumented fields). Every API test's traffic goes through one, so the
// document is held to what the server really answers.
type validatingTransport struct {
	t       *testing.T
	router  routers.Router
	checked atomic.Int64
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	route, params, err := v.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound {
			v.t.Errorf("OpenAPI: %s %s answered %d but is not documented: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
		return resp, nil
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		v.t.Errorf("OpenAPI: %s %s answered %d, which docs/openapi.json does not describe:\n%v\nbody: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, body)
	}
	v.checked.Add(1)
	return resp, nil
}

// apiClient talks to a test server's API with one key, every answer checked
// against the OpenAPI document.
type apiClient struct {
	t         *testing.T
	base, key string
	transport *validatingTransport
	http      *http.Client
}

func newAPIClient(t *testing.T, srv *handlertest.Server, key string) *apiClient {
	vt := &validatingTransport{t: t, router: openAPIRouter(t, srv.URL)}
	return &apiClient{t: t, base: srv.URL, key: key, transport: vt, http: &http.Client{Transport: vt}}
}

// with returns a client for the same server with another key.
func (a *apiClient) with(key string) *apiClient {
	b := *a
	b.key = key
	return &b
}

// apiResponse is one answer: status, headers, raw body and decoded JSON.
type apiResponse struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// err returns the Stripe error envelope's member, or nil.
func (r apiResponse) err() map[string]any {
	e, _ := r.JSON["error"].(map[string]any)
	return e
}

// do sends a request; body is form-encoded unless it starts with "{".
func (a *apiClient) do(method, path, body string, headers ...string) apiResponse {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	if body != "" {
		ct := "application/x-www-form-urlencoded"
		if strings.HasPrefix(body, "{") {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := apiResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &out.JSON); err != nil {
		a.t.Fatalf("%s %s: answer is not a JSON object (%d): %s", method, path, resp.StatusCode, raw)
	}
	return out
}

// mustOK is do that fails the test unless the answer is a 200.
func (a *apiClient) mustOK(method, path, body string, headers ...string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body, headers...)
	if r.Status != http.StatusOK {
		a.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r.JSON
}

// count returns the number of rows of a table (a test's view of what was stored).
func count(t *testing.T, srv *handlertest.Server, table string) int {
	t.Helper()
	var n int
	if err := srv.Store.DB().Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
