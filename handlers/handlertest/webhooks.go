package handlertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// StartWorker runs a webhook delivery worker over st until t ends, woken
// by hub (nil: an in-process hub of st), trusting the certificates of
// roots, private addresses allowed (the suite's receivers are on loopback).
// edit, when not nil, adjusts its configuration.
func StartWorker(t testing.TB, st *store.Store, hub *store.Hub, roots *x509.CertPool, edit func(*webhook.Config)) *webhook.Worker {
	t.Helper()
	if hub == nil {
		hub = store.NewHub(st, Discard)
		t.Cleanup(func() { hub.Close() })
	}
	wake, unsubscribe := hub.Subscribe(store.AllSessions)
	cfg := webhook.Config{Store: st, Present: handlers.SessionPresenter("http://paypage.test"), Wake: wake,
		AllowPrivate: true, RootCAs: roots, Logger: Discard}
	if edit != nil {
		edit(&cfg)
	}
	w := webhook.Start(cfg)
	t.Cleanup(func() {
		unsubscribe()
		// Not t.Context(): it is canceled before cleanups run, and the
		// worker must be done before the store closes.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop the webhook worker: %v", err)
		}
	})
	return w
}

// Received is one delivery a Receiver accepted.
type Received struct {
	Event          stripe.Event
	Payload        []byte // the body as it came
	At             time.Time
	Signature      string // the Stripe-Signature header
	SessionVersion int64  // the Paypage-Session-Version header
}

// Receiver is a merchant's webhook endpoint written as Stripe's Go library
// documents it: an https server (on loopback, with a certificate of its
// own) that verifies every delivery with webhook.ConstructEvent, unchanged.
// It can be taken down and brought back on the same address.
type Receiver struct {
	URL   string         // https://127.0.0.1:PORT/hooks
	Roots *x509.CertPool // trusts its certificate
	// CertPEM is its certificate, for a paypage process to trust
	// (SSL_CERT_FILE).
	CertPEM []byte

	t       testing.TB
	addr    string
	tlsConf *tls.Config

	mu       sync.Mutex
	secret   string
	answer   int // the status to answer a verified delivery with
	srv      *http.Server
	received []Received
	refused  []string // why deliveries failed verification
	changed  chan struct{}
}

// StartReceiver starts a receiver until t ends. It answers 200 once it
// has a secret (SetSecret) and a delivery verifies; 400 otherwise.
func StartReceiver(t testing.TB) *Receiver {
	t.Helper()
	cert, certPEM := selfSigned(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	ln := Listen(t)
	r := &Receiver{URL: "https://" + ln.Addr().String() + "/hooks", Roots: roots, CertPEM: certPEM, t: t, addr: ln.Addr().String(),
		tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}}, answer: http.StatusOK, changed: make(chan struct{}, 1)}
	r.serve(ln)
	t.Cleanup(r.Down)
	return r
}

// SetSecret is the endpoint's signing secret, as its creation answered it.
func (r *Receiver) SetSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

// Answer makes the receiver answer verified deliveries with status (a
// receiver that is up but failing); 200 again to heal it.
func (r *Receiver) Answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = status
}

func (r *Receiver) serve(ln net.Listener) {
	// Handshakes that paypage breaks off on purpose are not the test's news.
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ErrorLog: log.New(io.Discard, "", 0)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(tls.NewListener(ln, r.tlsConf))
}

// Down closes the receiver's port: connections are refused.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up opens the receiver's port again, on the same address.
func (r *Receiver) Up() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver: listen on %s again: %v", r.addr, err)
	}
	r.serve(ln)
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	payload, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	secret, answer := r.secret, r.answer
	r.mu.Unlock()
	ev, err := stripewebhook.ConstructEvent(payload, req.Header.Get("Stripe-Signature"), secret)
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.signal()
	if err != nil {
		r.refused = append(r.refused, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	version, _ := strconv.ParseInt(req.Header.Get(webhook.HeaderSessionVersion), 10, 64)
	if answer == http.StatusOK {
		r.received = append(r.received, Received{Event: ev, Payload: payload, At: time.Now(),
			Signature: req.Header.Get("Stripe-Signature"), SessionVersion: version})
	}
	w.WriteHeader(answer)
}

func (r *Receiver) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Events returns the deliveries accepted so far, in the order they came.
func (r *Receiver) Events() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.received...)
}

// Refused returns why deliveries failed verification, if any did.
func (r *Receiver) Refused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.refused...)
}

// WaitFor waits up to timeout for cond to hold of the deliveries accepted,
// and fails t when it does not; it returns them.
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, cond func([]Received) bool) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		got := r.Events()
		if cond(got) {
			return got
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			t.Fatalf("receiver: %s did not happen within %v; %d deliveries accepted, refused: %v", what, timeout, len(got), r.Refused())
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1, valid for a day.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "receiver.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM
}
