package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/paypage/paypage/store"
)

// Endpoint URLs are merchant input that paypage's servers then call: left
// unchecked, a merchant could have paypage post to its own loopback, the
// private network it runs in, or a cloud metadata service. So an endpoint
// must be https and reach only public addresses. The host is checked when
// the endpoint is registered (a clear error for the merchant), and every
// connection is checked again at the address it is about to connect to,
// after DNS: a name that resolved to a public address at registration and
// to a private one later (DNS rebinding) is refused all the same.
// PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1 (AllowPrivate) lifts the address rule, for
// tests and for receivers on the operator's own network; https stays.

// addrRange is a range of addresses and what it is.
type addrRange struct {
	prefix netip.Prefix
	kind   string
}

// forbidden are the ranges no delivery may reach.
var forbidden = []addrRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and the broadcast address
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "reserved"}, // IPv4-compatible, deprecated
	{netip.MustParsePrefix("64:ff9b:1::/48"), "reserved"},
	{netip.MustParsePrefix("100::/64"), "reserved"},
	{netip.MustParsePrefix("2001::/32"), "reserved"}, // Teredo: a tunnel to an address it hides
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// ForbiddenAddress says what kind of address ip is when no delivery may
// reach it ("loopback", "private", …), or "" when it is public. IPv4
// addresses written as IPv6 (mapped, NAT64, 6to4) are judged by the IPv4
// address they carry.
func ForbiddenAddress(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return "invalid"
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return ForbiddenAddress(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return ForbiddenAddress(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, f := range forbidden {
		if f.prefix.Contains(ip) {
			return f.kind
		}
	}
	return ""
}

// errForbidden is what a connection to a forbidden address fails with.
type errForbidden struct {
	addr netip.Addr
	kind string
}

func (e *errForbidden) Error() string {
	return fmt.Sprintf("refused to connect to %s, a %s address (PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1 allows it)", e.addr, e.kind)
}

// control runs for every connection a delivery opens, with the address
// DNS gave, just before connecting: the last word on where it goes.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if kind := ForbiddenAddress(ap.Addr()); kind != "" {
		return &errForbidden{addr: ap.Addr().Unmap(), kind: kind}
	}
	return nil
}

// resolveTimeout bounds the DNS lookup of CheckURL.
const resolveTimeout = 5 * time.Second

// CheckURL checks an endpoint URL when it is registered: its shape, and
// unless allowPrivate, that its host resolves and only to public
// addresses. Errors are EINVALID naming "url".
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	if err := store.ValidateWebhookURL(raw); err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	u, _ := url.Parse(raw) // valid: checked above
	host := u.Hostname()
	addrs := []netip.Addr{}
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, ip)
	} else {
		ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return store.Invalid("url", "url's host %s does not resolve to any address", host)
		case err != nil:
			return store.Invalid("url", "url's host %s could not be resolved now; try again", host)
		}
		addrs = found
	}
	for _, ip := range addrs {
		if kind := ForbiddenAddress(ip); kind != "" {
			return store.Invalid("url", "url must reach a public address, but %s is %s, a %s address", host, ip.Unmap().WithZone(""), kind)
		}
	}
	return nil
}
