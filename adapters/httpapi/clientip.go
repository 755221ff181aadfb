package httpapi

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientIP returns the address a request comes from: the socket peer,
// unless the peer is one of the trusted proxies. Then X-Forwarded-For is
// read from the right, each proxy having appended the address it saw, and
// the first address that is not itself a trusted proxy is the client.
// Addresses further left were written by that client and prove nothing. An
// entry that does not parse ends the walk at the last address known good;
// a chain of nothing but trusted proxies yields its left-most one.
// It returns "" when the peer address does not parse.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	ip := peer.Addr().Unmap().WithZone("")
	if !isTrusted(ip, trusted) {
		return ip.String()
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		ip = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return ip.String()
}

// clientIPOf returns the client IP identify found for the request.
func clientIPOf(c echo.Context) string {
	ip, _ := c.Get(keyClientIP).(string)
	return ip
}

// forwardedFor returns the entries of every X-Forwarded-For header, in
// order.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop parses one X-Forwarded-For entry: an address, with or without a
// port (some proxies add one).
func parseHop(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// isTrusted reports whether ip is inside one of the trusted networks.
func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
