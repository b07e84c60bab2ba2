package web

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/credmon/credmon/credmon/classad"
	"github.com/credmon/credmon/credmon/credfile"
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
	b, ctime, err := readRegular(filepath.Join(credDir, key), maxKeyFile)
	switch {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ELOOP) || errors.Is(err, errNotRegular):
		return nil, ErrUnknownKey
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	case lifetime > 0 && now.Sub(ctime) > lifetime:
		return nil, ErrExpiredKey
	}
	return ParseKeyFile(b)
}

var errNotRegular = errors.New("not a regular file")

// readRegular reads the regular file path, not following a symlink, and
// returns its bytes (at most max) and ctime. It is every /key visit's
// file access, so it is made of the four system calls it needs (open,
// fstat, one read into a buffer sized by fstat, close): an *os.File would
// add a poller registration and a finalizer, io.ReadAll a growing buffer
// and more reads.
func readRegular(path string, max int) ([]byte, time.Time, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, time.Time{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, time.Time{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	ctime := time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, ctime, errNotRegular
	}
	// One byte more than fstat says, so that one read normally reaches
	// EOF; the file may still change size meanwhile, and max bounds it.
	b := make([]byte, 0, min(st.Size, int64(max))+1)
	for {
		if len(b) == cap(b) {
			if len(b) > max {
				return nil, ctime, fmt.Errorf("larger than %d bytes", max)
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := syscall.Read(fd, b[len(b):cap(b)])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, ctime, &os.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return b, ctime, nil
		}
		b = b[:len(b)+n]
		if len(b) < cap(b) {
			// A short read of a regular file is its end: no second read
			// to be told so.
			return b, ctime, nil
		}
	}
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
