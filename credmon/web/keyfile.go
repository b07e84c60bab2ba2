package web

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/credmon/credmon/credmon/classad"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/atomicfile"
)

// Service is one ad of a key file: an OAuth2 credential credd found
// missing (spec §3.5). ClientSecret is a secret: it is never shown, logged
// or kept after the request that read it.
type Service struct {
	Provider  string // the service name (Provider attribute)
	Handle    string // "" for none
	LocalUser string
	// ScopesRaw and AudienceRaw are the attributes with every space
	// removed: what .top records and credd compares string-equal.
	ScopesRaw, AudienceRaw string
	Scopes, Audiences      []string

	ClientID, ClientSecret                string
	ReturnURL, AuthorizationURL, TokenURL string
}

// Name is the token file base name: service, or service_handle (§2.4).
func (s *Service) Name() string {
	if s.Handle == "" {
		return s.Provider
	}
	return s.Provider + "_" + s.Handle
}

// Errors of reading a key file; the pages say what to do about each.
var (
	ErrUnknownKey = errors.New("no such key")
	ErrExpiredKey = errors.New("key expired")
	ErrBadKeyFile = errors.New("unusable key file")
)

// maxKeyFile bounds what is read: credd writes one ad of about 1 KiB per
// service.
const maxKeyFile = 1 << 20

// readKeyFile reads and parses the key file key in credDir. The name must
// be a key (64 lowercase hex), the file a regular file (a symlink is not
// followed) no older than lifetime by its ctime, as the credmon's garbage
// collection measures it.
func readKeyFile(credDir, key string, lifetime time.Duration, now time.Time) ([]Service, error) {
	if !credfile.IsKeyFile(key) {
		return nil, ErrUnknownKey
	}
	b, st, err := atomicfile.ReadRegular(filepath.Join(credDir, key), maxKeyFile, atomicfile.OpenOptions{})
	switch {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, atomicfile.ErrNotRegular):
		return nil, ErrUnknownKey
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	case lifetime > 0 && now.Sub(st.Ctime) > lifetime:
		return nil, ErrExpiredKey
	}
	return ParseKeyFile(b)
}

// ParseKeyFile parses credd's key file (old-ClassAd text, one ad per
// service) and checks every ad: names credd itself would accept
// (okay_for_oauth_filename), a client id, and absolute authorization and
// token URLs. Errors never quote a value: the file holds client secrets.
func ParseKeyFile(b []byte) ([]Service, error) {
	ads, err := classad.ParseOldAds(string(b))
	if err != nil {
		var se *classad.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: syntax error at offset %d", ErrBadKeyFile, se.Offset)
		}
		return nil, fmt.Errorf("%w: not old-ClassAd text", ErrBadKeyFile)
	}
	if len(ads) == 0 {
		return nil, fmt.Errorf("%w: no ads", ErrBadKeyFile)
	}
	svcs := make([]Service, 0, len(ads))
	seen := map[string]bool{}
	for i, ad := range ads {
		str := func(name string) string {
			s, _ := ad.Eval(name).StringValue()
			return s
		}
		s := Service{
			Provider:         str("Provider"),
			Handle:           str("Handle"),
			LocalUser:        str("LocalUser"),
			ScopesRaw:        strings.ReplaceAll(str("Scopes"), " ", ""),
			AudienceRaw:      strings.ReplaceAll(str("Audience"), " ", ""),
			ClientID:         str("ClientId"),
			ClientSecret:     str("ClientSecret"),
			ReturnURL:        str("ReturnUrl"),
			AuthorizationURL: str("AuthorizationUrl"),
			TokenURL:         str("TokenUrl"),
		}
		s.Scopes = credfile.SplitList(s.ScopesRaw)
		s.Audiences = credfile.SplitList(s.AudienceRaw)
		bad := func(what string) error { return fmt.Errorf("%w: ad %d: %s", ErrBadKeyFile, i+1, what) }
		switch {
		case !credfile.OkayForFilename(s.Provider):
			return nil, bad("Provider missing or not a valid name")
		case s.Handle != "" && !credfile.OkayForFilename(s.Handle):
			return nil, bad("Handle not a valid name")
		case !credfile.OkayForFilename(s.LocalUser):
			return nil, bad("LocalUser missing or not a valid name")
		case i > 0 && s.LocalUser != svcs[0].LocalUser:
			return nil, bad("LocalUser differs from the first ad's")
		case seen[s.Name()]:
			return nil, bad("service listed twice")
		}
		for _, u := range []struct{ name, v string }{{"AuthorizationUrl", s.AuthorizationURL}, {"TokenUrl", s.TokenURL}, {"ReturnUrl", s.ReturnURL}} {
			if u.v == "" {
				continue // filled in from the configuration
			}
			p, err := url.Parse(u.v)
			if err != nil || !p.IsAbs() || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
				return nil, bad(u.name + " is not an absolute http(s) URL")
			}
		}
		seen[s.Name()] = true
		svcs = append(svcs, s)
	}
	return svcs, nil
}
