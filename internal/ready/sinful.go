package ready

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Sinful is a parsed HTCondor address ("<host:port?params>",
// condor_sinful.cpp).
type Sinful struct {
	Host string // IPv4, hostname, or IPv6 without brackets
	Port int    // -1 when absent
	// Params are the %XX-decoded parameters; the last duplicate wins.
	Params map[string]string
	// Addrs is the decoded addrs= list (ip:port, IPv6 bracketed).
	Addrs []netip.AddrPort
	raw   string
}

// SharedPortID is the sock= parameter: the id of the master's endpoint
// behind the shared-port daemon, or "" for a direct address.
func (s Sinful) SharedPortID() string { return s.Params["sock"] }

func (s Sinful) String() string { return s.raw }

// ParseSinful parses a sinful string ("<" host [":" port] ["?" params] ">").
func ParseSinful(v string) (Sinful, error) {
	if len(v) < 2 || v[0] != '<' || v[len(v)-1] != '>' {
		return Sinful{}, fmt.Errorf("sinful %q: want <host:port?params>", clip(v))
	}
	s := Sinful{Port: -1, Params: map[string]string{}, raw: v}
	body := v[1 : len(v)-1]
	hostport, params, _ := strings.Cut(body, "?")
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return Sinful{}, fmt.Errorf("sinful %q: unclosed '['", clip(v))
		}
		host, port = hostport[1:end], hostport[end+1:]
		if port != "" && port[0] != ':' {
			return Sinful{}, fmt.Errorf("sinful %q: junk after ']'", clip(v))
		}
		port = strings.TrimPrefix(port, ":")
		if _, err := netip.ParseAddr(host); err != nil {
			return Sinful{}, fmt.Errorf("sinful %q: bad IPv6 address", clip(v))
		}
	} else {
		if h, p, ok := strings.Cut(hostport, ":"); ok {
			host, port = h, p
		}
		if strings.ContainsAny(host, ":") {
			return Sinful{}, fmt.Errorf("sinful %q: bad host", clip(v))
		}
	}
	if host == "" || strings.ContainsAny(host, "<>[]?&; ") {
		return Sinful{}, fmt.Errorf("sinful %q: bad host", clip(v))
	}
	s.Host = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return Sinful{}, fmt.Errorf("sinful %q: bad port", clip(v))
		}
		s.Port = n
	}
	if params != "" {
		for _, kv := range strings.FieldsFunc(params, func(r rune) bool { return r == '&' || r == ';' }) {
			k, val, _ := strings.Cut(kv, "=")
			dk, err1 := urlDecode(k)
			dv, err2 := urlDecode(val)
			if err := errors.Join(err1, err2); err != nil || dk == "" {
				return Sinful{}, fmt.Errorf("sinful %q: bad parameter", clip(v))
			}
			s.Params[dk] = dv
		}
	}
	if id, ok := s.Params["sock"]; ok && !validSharedPortID(id) {
		return Sinful{}, fmt.Errorf("sinful %q: sock= id must be [A-Za-z0-9._-]+", clip(v))
	}
	if a := s.Params["addrs"]; a != "" {
		for _, e := range strings.Split(a, "+") {
			ap, err := parseCCBSafe(e)
			if err != nil {
				return Sinful{}, fmt.Errorf("sinful %q: addrs: %w", clip(v), err)
			}
			s.Addrs = append(s.Addrs, ap)
		}
	}
	return s, nil
}

// parseCCBSafe reads one addrs= entry: "ip-port", IPv6 as "[a-b-c]-port"
// with every ':' written '-'; the last '-' separates the port
// (condor_sockaddr::from_ccb_safe_string).
func parseCCBSafe(e string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(e, '-')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("entry %q has no port", clip(e))
	}
	host, port := e[:i], e[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = strings.ReplaceAll(host[1:len(host)-1], "-", ":")
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("entry %q: bad address", clip(e))
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("entry %q: bad port", clip(e))
	}
	return netip.AddrPortFrom(addr, uint16(n)), nil
}

func validSharedPortID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func urlDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("truncated %-escape")
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", errors.New("bad %-escape")
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// endpoints lists where to connect, in order: the addrs= entries (IPv4
// first, as C++ prefers on a loopback pool), else host:port.
func (s Sinful) endpoints() ([]string, error) {
	var out []string
	for _, want4 := range []bool{true, false} {
		for _, a := range s.Addrs {
			if a.Addr().Unmap().Is4() == want4 {
				out = append(out, netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).String())
			}
		}
	}
	if len(out) == 0 && s.Port >= 0 {
		out = append(out, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("master address %s has no port", clip(s.raw))
	}
	for _, e := range out {
		if strings.HasSuffix(e, ":0") {
			// The master hands out port 0 only before the shared-port
			// daemon is up; it starts us after that, so this is rare.
			return nil, fmt.Errorf("master address %s has port 0 (shared port not up yet)", clip(s.raw))
		}
	}
	return out, nil
}
