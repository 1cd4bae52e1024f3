package handlers_test

import (
	"testing"

	"github.com/paypage/paypage/store/storetest"
)

// The servers these tests talk to come from handlers/handlertest; the
// browser tests, in handlers/browser, use the same.
func TestMain(m *testing.M) { storetest.Main(m) }
