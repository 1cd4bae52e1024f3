package harness

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/paypage/paypage/bench/load"
)

// A scenario is one kind of request loaded on one server.
type scenario struct {
	name   string // as the table names it
	server string // paypage, b1 or b2
	target load.Target
}

// createForm is the body of every create: three line items, as the page
// the issue measured.
var createForm = func() string {
	v := url.Values{}
	v.Set("currency", "eur")
	v.Set("success_url", "https://shop.example/ok?session={CHECKOUT_SESSION_ID}")
	v.Set("cancel_url", "https://shop.example/cart")
	for i, it := range []struct {
		name, desc string
		qty, unit  int
	}{
		{"Ceramic mug", "Stoneware, 350 ml, dishwasher safe", 2, 1250},
		{"Coffee beans", "Single origin, 250 g, whole bean", 1, 1490},
		{"Gift wrap", "Recycled paper with a card", 1, 350},
	} {
		p := "line_items[" + strconv.Itoa(i) + "]"
		v.Set(p+"[quantity]", strconv.Itoa(it.qty))
		v.Set(p+"[price_data][currency]", "eur")
		v.Set(p+"[price_data][unit_amount]", strconv.Itoa(it.unit))
		v.Set(p+"[price_data][product_data][name]", it.name)
		v.Set(p+"[price_data][product_data][description]", it.desc)
	}
	return v.Encode()
}()

// fixture is what the scenarios of one engine read: the merchant's key and
// the ids of seeded sessions.
type fixture struct {
	key    string
	ids    []string
	runID  string       // keeps idempotency keys of separate runs apart
	keySeq atomic.Int64 // numbers idempotency keys across rounds
}

func expectStatus(want int) func(int, []byte) error {
	return func(status int, body []byte) error {
		if status != want {
			return fmt.Errorf("status %d, want %d: %.200s", status, want, body)
		}
		return nil
	}
}

func get(path func(i int64) string, header ...string) func(int64, *fasthttp.Request) {
	return func(i int64, req *fasthttp.Request) {
		req.SetRequestURI(path(i))
		for j := 0; j+1 < len(header); j += 2 {
			req.Header.Set(header[j], header[j+1])
		}
	}
}

// create is a POST of createForm; keyed ones carry a fresh Idempotency-Key.
func (f *fixture) create(keyed bool) load.Target {
	return load.Target{
		Request: func(i int64, req *fasthttp.Request) {
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI("/v1/checkout/sessions")
			req.Header.Set("Authorization", "Bearer "+f.key)
			req.Header.SetContentType("application/x-www-form-urlencoded")
			if keyed {
				req.Header.Set("Idempotency-Key", f.runID+"-"+strconv.FormatInt(f.keySeq.Add(1), 10))
			}
			req.SetBodyString(createForm)
		},
		Check: expectStatus(200),
	}
}

// seedTarget creates sessions and collects their ids.
func (f *fixture) seedTarget(mu *sync.Mutex) load.Target {
	t := f.create(false)
	t.Check = func(status int, body []byte) error {
		if status != 200 {
			return fmt.Errorf("create: status %d: %.300s", status, body)
		}
		var s struct{ ID string }
		if err := json.Unmarshal(body, &s); err != nil || s.ID == "" {
			return fmt.Errorf("create: no id in %.300s", body)
		}
		mu.Lock()
		f.ids = append(f.ids, s.ID)
		mu.Unlock()
		return nil
	}
	return t
}

// scenarios lists, in the order each round runs them, every measurement of
// one engine: each of paypage's next to its reference.
func (f *fixture) scenarios(distinct int) []scenario {
	one := f.ids[0]
	n := int64(min(distinct, len(f.ids)))
	cycle := func(prefix, suffix string) func(i int64) string {
		return func(i int64) string { return prefix + f.ids[i%n] + suffix }
	}
	fixed := func(path string) func(int64) string { return func(int64) string { return path } }
	ok := expectStatus(200)
	return []scenario{
		{"pay-same", "paypage", load.Target{Request: get(fixed("/pay/" + one)), Check: ok}},
		{"b2-same", "b2", load.Target{Request: get(fixed("/pay/" + one)), Check: ok}},
		{"pay-distinct", "paypage", load.Target{Request: get(cycle("/pay/", "")), Check: ok}},
		{"b2-distinct", "b2", load.Target{Request: get(cycle("/pay/", "")), Check: ok}},
		{"retrieve-distinct", "paypage", load.Target{Request: get(cycle("/v1/checkout/sessions/", ""), "Authorization", "Bearer "+f.key), Check: ok}},
		{"status-same", "paypage", load.Target{Request: get(fixed("/pay/" + one + "/status")), Check: ok}},
		{"b1", "b1", load.Target{Request: get(fixed("/")), Check: ok}},
		{"create-plain", "paypage", f.create(false)},
		{"create-keyed", "paypage", f.create(true)},
	}
}
