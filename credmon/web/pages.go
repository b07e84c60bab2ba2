package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// errorPage is what an error page says: what happened and what to do
// next. None carries anything from the request.
type errorPage struct {
	Title, What, Next string
}

var (
	pageUnknownKey = errorPage{"This login link is not valid",
		"The link has already been used, or it was never issued by this access point.",
		"If your job still needs credentials, run condor_submit again: it prints a new link."}
	pageExpiredKey = errorPage{"This login link has expired",
		"Login links are valid for 12 hours and only until every service on them is done.",
		"Run condor_submit again: it prints a new link for the services that still need a login."}
	pageBadKey = errorPage{"This login link cannot be used",
		"The access point could not read the credential request behind this link.",
		"Run condor_submit again; if this keeps happening, tell your HTCondor administrator."}
	pageNoSession = errorPage{"Your login session has ended",
		"This page needs the session your browser gets from the login link, and it has none (it expired, or cookies are blocked).",
		"Open the link condor_submit printed again, with cookies allowed for this site."}
	pageState = errorPage{"This answer does not belong to your login",
		"The identity provider's answer does not match a login started from this browser session (it was used already, or it was not started here). Nothing was stored.",
		"Go back to the link condor_submit printed and press the service's button again."}
	pageRefused = errorPage{"The identity provider refused the login",
		"The login or the consent was declined at the identity provider. No credential was stored.",
		"Open the link condor_submit printed again and log in, allowing the access the job asks for; or remove the service from your submit file."}
	pageTokenFailed = errorPage{"The identity provider did not issue a token",
		"The login succeeded, but the identity provider refused to give this access point a token.",
		"Try again from the link condor_submit printed; if it fails again, tell your HTCondor administrator."}
	pageWriteFailed = errorPage{"The credential could not be stored",
		"The access point could not save the credential.",
		"Tell your HTCondor administrator; then try again from the link condor_submit printed."}
	pageConfig = errorPage{"This service is not set up for logins",
		"The access point's configuration for this service is incomplete.",
		"Tell your HTCondor administrator."}
	pageForm = errorPage{"The form could not be accepted",
		"The button was pressed on a page from another session, or the page was not from this site.",
		"Reload the page from the link condor_submit printed and press the button again."}
	pageNotFound = errorPage{"Page not found",
		"There is nothing at this address.",
		"Use the link condor_submit printed."}
	pageMethod = errorPage{"Not allowed",
		"This address does not accept that kind of request.",
		"Use the buttons on the page from the link condor_submit printed."}
)

type errorView struct {
	errorPage
	Base   string
	Status int
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, p errorPage) {
	s.render(w, r, status, "error.html", errorView{errorPage: p, Base: s.base, Status: status})
}

// trusted reports whether a request comes straight from a configured
// reverse proxy, whose X-Forwarded-* headers are then believed.
func (s *Server) trusted(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return a, true
		}
	}
	return a, false
}

// clientAddr is the address a log line names: the peer, or behind a
// trusted proxy the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries further left are the client's to forge).
func (s *Server) clientAddr(r *http.Request) string {
	a, ok := s.trusted(r)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	if !ok {
		return a.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		h = h.Unmap()
		inner := false
		for _, p := range s.cfg.TrustedProxies {
			if p.Contains(h) {
				inner = true
			}
		}
		if !inner {
			return h.String()
		}
	}
	return a.String()
}

// publicBase is the scheme://host the browser used, for a return URL the
// key file does not give: the request's own, or a trusted proxy's
// X-Forwarded-Proto and -Host.
func (s *Server) publicBase(r *http.Request) string {
	scheme, host := "https", r.Host
	if r.TLS == nil {
		scheme = "http"
	}
	if _, ok := s.trusted(r); ok {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" && !strings.ContainsAny(h, "/\\@ ,") {
			host = h
		}
	}
	return scheme + "://" + host
}
