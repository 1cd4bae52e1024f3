package store_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// ids lists the ids of sessions in order.
func ids(list []*store.Session) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

func TestMerchantSessionHidesOtherMerchantsAndModesLikeUnknownIDs(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		a, _ := newMerchant(t, s, nil)
		b, _ := newMerchant(t, s, nil)
		test := createSession(t, s, a, false, validParams())
		live := createSession(t, s, a, true, validParams())
		const unknown = "cs_test_0123456789abcdefghijklmnopqrstuv"

		// notFound is what asking for an id that does not exist looks like,
		// with the id taken out.
		_, err := s.MerchantSession(t.Context(), a.ID, false, unknown)
		wantCode(t, err, store.ENOTFOUND)
		notFound := strings.ReplaceAll(err.Error(), unknown, "<id>")

		for _, tc := range []struct {
			name       string
			merchantID string
			livemode   bool
			id         string
			found      bool
		}{
			{"own test-mode session with the test key", a.ID, false, test.ID, true},
			{"own live-mode session with the live key", a.ID, true, live.ID, true},
			{"another merchant's session", b.ID, false, test.ID, false},
			{"own test-mode session with the live key", a.ID, true, test.ID, false},
			{"own live-mode session with the test key", a.ID, false, live.ID, false},
			{"unknown merchant", "acct_unknown", false, test.ID, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.MerchantSession(t.Context(), tc.merchantID, tc.livemode, tc.id)
				if tc.found {
					if err != nil {
						t.Fatalf("merchant session: %v", err)
					}
					wantSameSession(t, got, getSession(t, s, tc.id))
					return
				}
				wantCode(t, err, store.ENOTFOUND)
				if got != nil {
					t.Errorf("returned a session with the error")
				}
				if msg := strings.ReplaceAll(err.Error(), tc.id, "<id>"); msg != notFound {
					t.Errorf("error %q differs from an unknown id's %q", msg, notFound)
				}
			})
		}
	})
}

func TestListSessionsShowsOnlyTheCallersMerchantAndMode(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		a, _ := newMerchant(t, s, nil)
		b, _ := newMerchant(t, s, nil)
		p := validParams()
		p.ClientReferenceID = "order-1" // the same reference everywhere
		aTest := createSession(t, s, a, false, p)
		aLive := createSession(t, s, a, true, p)
		bTest := createSession(t, s, b, false, p)
		for _, tc := range []struct {
			name       string
			merchantID string
			livemode   bool
			params     store.ListParams
			want       []string
		}{
			{"merchant a, test mode", a.ID, false, store.ListParams{Limit: 10}, []string{aTest.ID}},
			{"merchant a, live mode", a.ID, true, store.ListParams{Limit: 10}, []string{aLive.ID}},
			{"merchant b, test mode", b.ID, false, store.ListParams{Limit: 10}, []string{bTest.ID}},
			{"merchant b, live mode", b.ID, true, store.ListParams{Limit: 10}, []string{}},
			{"merchant b, filtered by a shared reference", b.ID, false,
				store.ListParams{Limit: 10, ClientReferenceID: "order-1"}, []string{bTest.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, more, err := s.ListSessions(t.Context(), tc.merchantID, tc.livemode, tc.params)
				if err != nil || more {
					t.Fatalf("list: more=%v err=%v", more, err)
				}
				if got := ids(list); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("listed %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestListSessionsPaginatesNewestFirst(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		// s[1] is the oldest, s[7] the newest; interleaved with sessions the
		// list must skip.
		sess := make([]string, 8)
		for i := 1; i <= 7; i++ {
			c.Advance(time.Second)
			sess[i] = createSession(t, s, m, false, validParams()).ID
			createSession(t, s, other, false, validParams())
			createSession(t, s, m, true, validParams())
		}
		otherLive := createSession(t, s, m, true, validParams()).ID
		theirs := createSession(t, s, other, false, validParams()).ID
		pick := func(n ...int) []string {
			out := []string{}
			for _, i := range n {
				out = append(out, sess[i])
			}
			return out
		}
		for _, tc := range []struct {
			name string
			p    store.ListParams
			want []string
			more bool
		}{
			{"first page", store.ListParams{Limit: 3}, pick(7, 6, 5), true},
			{"second page", store.ListParams{Limit: 3, StartingAfter: sess[5]}, pick(4, 3, 2), true},
			{"last page", store.ListParams{Limit: 3, StartingAfter: sess[2]}, pick(1), false},
			{"after the oldest", store.ListParams{Limit: 3, StartingAfter: sess[1]}, pick(), false},
			{"a page that is exactly full", store.ListParams{Limit: 7}, pick(7, 6, 5, 4, 3, 2, 1), false},
			{"one", store.ListParams{Limit: 1}, pick(7), true},
			{"the largest limit", store.ListParams{Limit: 100}, pick(7, 6, 5, 4, 3, 2, 1), false},
			{"the page before the oldest", store.ListParams{Limit: 3, EndingBefore: sess[1]}, pick(4, 3, 2), true},
			{"the page before, reaching the newest", store.ListParams{Limit: 3, EndingBefore: sess[4]}, pick(7, 6, 5), false},
			{"a short page before", store.ListParams{Limit: 3, EndingBefore: sess[5]}, pick(7, 6), false},
			{"before the newest", store.ListParams{Limit: 3, EndingBefore: sess[7]}, pick(), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, more, err := s.ListSessions(t.Context(), m.ID, false, tc.p)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if got := ids(list); !reflect.DeepEqual(got, tc.want) || more != tc.more {
					t.Errorf("listed %v (has_more %v), want %v (has_more %v)", got, more, tc.want, tc.more)
				}
			})
		}

		t.Run("walking every page forwards and backwards", func(t *testing.T) {
			var forward []string
			p := store.ListParams{Limit: 2}
			for pages := 0; ; pages++ {
				list, more, err := s.ListSessions(t.Context(), m.ID, false, p)
				if err != nil || pages > 4 {
					t.Fatalf("page %d: %v", pages, err)
				}
				forward = append(forward, ids(list)...)
				if !more {
					break
				}
				p.StartingAfter = list[len(list)-1].ID
			}
			if want := pick(7, 6, 5, 4, 3, 2, 1); !reflect.DeepEqual(forward, want) {
				t.Fatalf("forwards: %v, want %v", forward, want)
			}
			var backward []string
			p = store.ListParams{Limit: 2, EndingBefore: sess[1]}
			for pages := 0; ; pages++ {
				list, more, err := s.ListSessions(t.Context(), m.ID, false, p)
				if err != nil || pages > 4 {
					t.Fatalf("page %d: %v", pages, err)
				}
				backward = append(ids(list), backward...)
				if !more {
					break
				}
				p.EndingBefore = list[0].ID
			}
			if want := pick(7, 6, 5, 4, 3, 2); !reflect.DeepEqual(backward, want) {
				t.Fatalf("backwards: %v, want %v", backward, want)
			}
		})

		for _, tc := range []struct {
			name  string
			p     store.ListParams
			param string
		}{
			{"limit 0", store.ListParams{}, "limit"},
			{"limit 101", store.ListParams{Limit: 101}, "limit"},
			{"both cursors", store.ListParams{Limit: 3, StartingAfter: sess[5], EndingBefore: sess[2]}, "ending_before"},
			{"unknown cursor", store.ListParams{Limit: 3, StartingAfter: "cs_test_nope"}, "starting_after"},
			{"another merchant's session as cursor", store.ListParams{Limit: 3, StartingAfter: theirs}, "starting_after"},
			{"a live session as a test-mode cursor", store.ListParams{Limit: 3, EndingBefore: otherLive}, "ending_before"},
			{"unknown status", store.ListParams{Limit: 3, Status: "paid"}, "status"},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				_, _, err := s.ListSessions(t.Context(), m.ID, false, tc.p)
				wantInvalid(t, err, tc.param)
			})
		}
	})
}

func TestListSessionsFilters(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		at := func(sec int64) int64 { return t0.Unix() + sec }
		create := func(sec int64, ref, customer string, steps ...store.Transition) string {
			c.Set(time.Unix(at(sec), 0))
			p := validParams()
			p.ClientReferenceID, p.Customer = ref, customer
			if sec == 6 {
				p.ExpiresAt = at(6) + 60 // past its expiry when the list is read
			}
			id := createSession(t, s, m, false, p).ID
			for _, step := range steps {
				transition(t, s, id, step)
			}
			createSession(t, s, other, false, p) // same filters, never listed
			return id
		}
		a := create(1, "order-1", "cus_1")
		b := create(2, "order-2", "cus_1", succeed)
		cc := create(3, "order-1", "cus_2", cancel)
		d := create(4, "", "cus_2", process)
		e := create(5, "", "", expire)
		f := create(6, "", "")
		c.Set(time.Unix(at(10*60), 0))

		for _, tc := range []struct {
			name string
			p    store.ListParams
			want []string
		}{
			{"open (not past its expiry)", store.ListParams{Status: store.StatusOpen}, []string{a}},
			{"expired (stored or by the clock)", store.ListParams{Status: store.StatusExpired}, []string{f, e}},
			{"complete", store.ListParams{Status: store.StatusComplete}, []string{b}},
			{"canceled", store.ListParams{Status: store.StatusCanceled}, []string{cc}},
			{"processing", store.ListParams{Status: store.StatusProcessing}, []string{d}},
			{"client reference", store.ListParams{ClientReferenceID: "order-1"}, []string{cc, a}},
			{"customer", store.ListParams{Customer: "cus_2"}, []string{d, cc}},
			{"created from", store.ListParams{CreatedGTE: at(3)}, []string{f, e, d, cc}},
			{"created until", store.ListParams{CreatedLTE: at(2)}, []string{b, a}},
			{"created between, inclusive", store.ListParams{CreatedGTE: at(2), CreatedLTE: at(4)}, []string{d, cc, b}},
			{"customer and status", store.ListParams{Customer: "cus_1", Status: store.StatusOpen}, []string{a}},
			{"nothing matches", store.ListParams{ClientReferenceID: "order-9"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.p.Limit = 100
				list, _, err := s.ListSessions(t.Context(), m.ID, false, tc.p)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if got := ids(list); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("listed %v, want %v", got, tc.want)
				}
				for _, sess := range list {
					if tc.p.Status != "" && sess.Status != tc.p.Status {
						t.Errorf("session %s listed as %s under a %s filter", sess.ID, sess.Status, tc.p.Status)
					}
				}
			})
		}
	})
}

func TestLineItemsPaginateInOrder(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		p := validParams()
		p.LineItems = nil
		for _, name := range []string{"A", "B", "C", "D", "E"} {
			p.LineItems = append(p.LineItems, item(name, 1, 100))
		}
		sess := createSession(t, s, m, false, p)
		other := createSession(t, s, m, false, validParams())
		li := func(i int) string { return sess.LineItems[i].ID }
		names := func(items []store.LineItem) string {
			var b strings.Builder
			for _, it := range items {
				b.WriteString(it.Name)
			}
			return b.String()
		}
		for _, tc := range []struct {
			name          string
			limit         int
			after, before string
			want          string
			more          bool
		}{
			{"first page", 2, "", "", "AB", true},
			{"second page", 2, li(1), "", "CD", true},
			{"last page", 2, li(3), "", "E", false},
			{"everything", 5, "", "", "ABCDE", false},
			{"page before the last", 2, "", li(4), "CD", true},
			{"first page, going back", 2, "", li(1), "A", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				items, more, err := s.LineItems(t.Context(), sess.ID, tc.limit, tc.after, tc.before)
				if err != nil {
					t.Fatalf("line items: %v", err)
				}
				if got := names(items); got != tc.want || more != tc.more {
					t.Errorf("got %s (has_more %v), want %s (has_more %v)", got, more, tc.want, tc.more)
				}
			})
		}
		for _, tc := range []struct {
			name          string
			limit         int
			after, before string
			param         string
		}{
			{"limit 0", 0, "", "", "limit"},
			{"limit 101", 101, "", "", "limit"},
			{"unknown cursor", 2, "li_nope", "", "starting_after"},
			{"another session's line item", 2, "", other.LineItems[0].ID, "ending_before"},
			{"both cursors", 2, li(1), li(3), "ending_before"},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				_, _, err := s.LineItems(t.Context(), sess.ID, tc.limit, tc.after, tc.before)
				wantInvalid(t, err, tc.param)
			})
		}
	})
}

func TestSessionOfUnknownIDIsNotFound(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		sess, err := s.Session(t.Context(), "cs_test_unknown")
		wantCode(t, err, store.ENOTFOUND)
		var e *store.Error
		if sess != nil || !errors.As(err, &e) || !store.IsNotFound(err) {
			t.Fatalf("got %v, %v; want a typed not-found error and no session", sess, err)
		}
	})
}
