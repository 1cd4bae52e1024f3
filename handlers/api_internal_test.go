package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

func TestAPIRateLimiterTokenBucket(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := newRateLimiter(2, 4, func() time.Time { return now })
	for i := range 4 {
		if ok, _ := l.allow("k"); !ok {
			t.Fatalf("request %d of a burst of 4 refused", i+1)
		}
	}
	ok, wait := l.allow("k")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("fifth request: ok=%v wait=%v, want refused for 500ms", ok, wait)
	}
	if ok, _ := l.allow("other"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond) // one token back at 2/s
	if ok, _ := l.allow("k"); !ok {
		t.Fatal("refilled token refused")
	}
	if ok, _ := l.allow("k"); ok {
		t.Fatal("a second token appeared from nowhere")
	}
	now = now.Add(time.Hour) // refills to the burst, not beyond
	for i := range 5 {
		ok, _ := l.allow("k")
		if ok != (i < 4) {
			t.Fatalf("after an hour, request %d: ok=%v", i+1, ok)
		}
	}
	d := newRateLimiter(0, 0, time.Now)
	if d.rate != DefaultAPIRate || d.burst != DefaultAPIBurst {
		t.Fatalf("defaults: %v/s burst %v", d.rate, d.burst)
	}
}

func TestAPIRateLimiterForgetsIdleKeysWhenFull(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := newRateLimiter(1, 1, func() time.Time { return now })
	for i := range maxBuckets {
		l.allow(fmt.Sprint(i))
	}
	now = now.Add(2 * time.Second) // every bucket has refilled
	l.allow("new")
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets kept after pruning, want 1", len(l.buckets))
	}
}

func TestAPIFormBracketNotation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw  string
		want map[string]any
	}{
		{"a=1&b=x+y%21", map[string]any{"a": "1", "b": "x y!"}},
		{"m[k]=v&m[j]=", map[string]any{"m": map[string]any{"k": "v", "j": ""}}},
		{"l[]=a&l[]=b", map[string]any{"l": []any{"a", "b"}}},
		{"l[0][x]=1&l[1][x]=2", map[string]any{"l": map[string]any{"0": map[string]any{"x": "1"}, "1": map[string]any{"x": "2"}}}},
		{"l[][x]=1&l[][y]=2&l[][x]=3", map[string]any{"l": []any{map[string]any{"x": "1", "y": "2"}, map[string]any{"x": "3"}}}},
		{"", map[string]any{}},
	}
	for _, tc := range cases {
		got, err := parseForm(tc.raw)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseForm(%q) = %v, %v; want %v", tc.raw, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a=1&a=2", "a=1&a[b]=2", "a[b]=1&a=2", "a[=1", "[a]=1", "a]=1", "a[b]c=1", "%zz=1", "a=%zz",
		"a[b][c][d][e][f][g][h][i][j][k][l][m]=1"} {
		if _, err := parseForm(bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("parseForm(%q): err %v, want a 400", bad, err)
		}
	}
}

func TestAPIFormAndJSONBindAlike(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int64 `json:"n"`
	}
	type target struct {
		S  string            `json:"s"`
		B  bool              `json:"b"`
		L  []inner           `json:"l"`
		M  map[string]string `json:"m"`
		P  *inner            `json:"p"`
		RF *rangeFilter      `json:"rf"`
	}
	fromForm, err := parseForm("s=x&b=true&l[1][n]=2&l[0][n]=-1&m[a]=1&p[n]=7&rf[gte]=5")
	if err != nil {
		t.Fatal(err)
	}
	var f, j target
	if err := bindTree(fromForm, false, &f); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := parseJSON([]byte(`{"s":"x","b":true,"l":[{"n":-1},{"n":2}],"m":{"a":"1"},"p":{"n":7},"rf":{"gte":5}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := bindTree(fromJSON, true, &j); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, j) || f.L[1].N != 2 || *f.RF.GTE != 5 {
		t.Fatalf("form %+v and JSON %+v differ", f, j)
	}
	exact, _ := parseForm("rf=9")
	var e target
	if err := bindTree(exact, false, &e); err != nil || *e.RF.GTE != 9 || *e.RF.LTE != 9 {
		t.Fatalf("rf=9: %+v %v", e.RF, err)
	}
	for raw, param := range map[string]string{"l[x][n]=1": "l[x]", "l[0][n]=1&l[2][n]=1": "l[2]", "p=3": "p", "m[a][b]=1": "m[a]", "q=1": "q", "l[0][q]=1": "l[0][q]"} {
		tree, err := parseForm(raw)
		if err == nil {
			var v target
			err = bindTree(tree, false, &v)
		}
		var se *store.Error
		if !errors.As(err, &se) || se.Param != param {
			t.Errorf("%s: %v, want a 400 naming %s", raw, err, param)
		}
	}
}

func TestAPIClassifyMapsErrorsToStripesStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err    error
		status int
		typ    string
		code   string
	}{
		{store.Invalid("x", "bad"), 400, "invalid_request_error", "parameter_invalid"},
		{unknownParam("x"), 400, "invalid_request_error", "parameter_unknown"},
		{fmt.Errorf("wrapped: %w", store.ErrIdempotencyMismatch), 400, "idempotency_error", "idempotency_key_in_use"},
		{store.ErrIdempotencyInProgress, 409, "invalid_request_error", "idempotency_key_in_use"},
		{store.Errorf(store.ECONFLICT, "x"), 409, "invalid_request_error", "lock_timeout"},
		{store.Errorf(store.ESTATE, "x"), 400, "invalid_request_error", "checkout_session_unexpected_state"},
		{store.Errorf(store.ENOTFOUND, "x"), 404, "invalid_request_error", "resource_missing"},
		{errUnauthorized, 401, "invalid_request_error", ""},
		{&rateLimited{RetryAfter: 3}, 429, "invalid_request_error", "rate_limit"},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 503, "api_error", ""},
		{errors.New("pq: relation does not exist"), 500, "api_error", ""},
	}
	for _, tc := range cases {
		status, body := classify(tc.err)
		if status != tc.status || body.Type != tc.typ || body.Code != tc.code {
			t.Errorf("%v: %d %s %s, want %d %s %s", tc.err, status, body.Type, body.Code, tc.status, tc.typ, tc.code)
		}
		if status >= 500 && body.Message == tc.err.Error() {
			t.Errorf("%v: the server error's text is shown", tc.err)
		}
	}
}

func TestAPIErrorAnswersCarryRetryAfter(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	healthy := func(context.Context) error { return nil }
	h := &handler{log: log, timeout: DefaultRequestTimeout, outage: newOutage(log, healthy, healthy), refused: &quietCount{period: time.Minute}}
	app := fiber.New(fiber.Config{ErrorHandler: h.handleError})
	app.Use(h.requestContext)
	app.Get("/v1/slow", func(c *fiber.Ctx) error { return fmt.Errorf("select: %w", context.DeadlineExceeded) })
	app.Get("/v1/busy", func(c *fiber.Ctx) error { return &rateLimited{RetryAfter: 7} })
	for path, want := range map[string]struct {
		status int
		retry  string
	}{"/v1/slow": {503, "1"}, "/v1/busy": {429, "7"}} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want.status || resp.Header.Get("Retry-After") != want.retry ||
			!strings.Contains(string(body), resp.Header.Get("Request-Id")) || strings.Contains(string(body), "select") {
			t.Errorf("%s: %d Retry-After %q %s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
}
