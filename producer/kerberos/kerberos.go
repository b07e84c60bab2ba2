package kerberos

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Options say where a login's credentials come from.
type Options struct {
	// Keytab is the keytab to log in with ("FILE:/path", "WRFILE:/path"
	// or a path). When empty, the client uses a ticket cache instead.
	Keytab string
	// Principal is the client principal ("name/instance@REALM"; without
	// a realm it is in krb5.conf's default_realm). With a keytab and no
	// principal, the keytab's first entry is used; with a ticket cache,
	// a principal that is given must be the cache's.
	Principal string
	// CCache is the ticket cache to use when Keytab is empty ("FILE:/path"
	// or a path); DefaultCCache() when empty too.
	CCache string
	// Config is the Kerberos configuration; LoadConfig("") when nil.
	Config *config.Config
}

// Client holds a Kerberos login: a ticket-granting ticket from a keytab or
// a ticket cache, from which it gets service tickets. It never writes a
// ticket cache. It is not safe for concurrent use.
type Client struct {
	cl        *client.Client
	conf      *config.Config
	principal Principal
	// source names the credentials in messages: "keytab /path" or
	// "ticket cache /path".
	source     string
	fromKeytab bool
}

// Login logs in as opts say: with a keytab, an AS exchange with the realm's
// KDC that yields a ticket-granting ticket; with a ticket cache, the
// cache's ticket-granting ticket, checked to be still valid.
func Login(opts Options) (*Client, error) {
	conf := opts.Config
	if conf == nil {
		var err error
		if conf, err = LoadConfig(""); err != nil {
			return nil, err
		}
	}
	if opts.Keytab != "" {
		return loginKeytab(opts, conf)
	}
	return loginCCache(opts, conf)
}

func loginKeytab(opts Options, conf *config.Config) (*Client, error) {
	path, err := ParseKeytabName(opts.Keytab)
	if err != nil {
		return nil, &Error{kind: ErrKeytab, msg: err.Error()}
	}
	kt, err := LoadKeytab(path)
	if err != nil {
		return nil, err
	}
	var p Principal
	if opts.Principal != "" {
		if p, err = ParsePrincipal(opts.Principal, conf.LibDefaults.DefaultRealm); err != nil {
			return nil, &Error{kind: ErrConfig, msg: err.Error()}
		}
	} else {
		e := kt.Entries[0].Principal
		p = Principal{Components: slices.Clone(e.Components), Realm: e.Realm}
	}
	if !keytabHas(kt, p) {
		return nil, &Error{kind: ErrNoPrincipal, msg: fmt.Sprintf(
			"keytab %s has no key for %s (it holds %s): give the principal the keytab was exported for",
			path, p, strings.Join(keytabPrincipals(kt), ", "))}
	}
	c := &Client{
		cl:         client.NewWithKeytab(strings.Join(p.Components, "/"), p.Realm, kt, conf, client.DisablePAFXFAST(true)),
		conf:       conf,
		principal:  p,
		source:     "keytab " + path,
		fromKeytab: true,
	}
	if err := c.cl.Login(); err != nil {
		c.cl.Destroy()
		return nil, c.explain(err, "")
	}
	return c, nil
}

// LoadKeytab reads and parses a keytab file, after refusing one that group
// or others may read or write: a keytab is a password, and MIT's own tools
// and igwn-robot-get refuse such a file too.
//
// A symlink is followed, as MIT Kerberos and htgettoken do (sites point
// /etc/krb5.keytab-style names at files managed elsewhere); the mode that
// is checked is the opened file's own, so the target of the link must be
// private.
func LoadKeytab(path string) (*keytab.Keytab, error) {
	b, mode, err := readFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("keytab %s does not exist", path), err: err}
	case errors.Is(err, os.ErrPermission):
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("cannot read keytab %s: permission denied (it must belong to the user running this)", path), err: err}
	case err != nil && mode == 0:
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("cannot read keytab %s: %v", path, err), err: err}
	}
	if mode.Perm()&0o077 != 0 {
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf(
			"keytab %s is accessible by group or others (mode %04o): run `chmod 600 %s`", path, mode.Perm(), path)}
	}
	if err != nil {
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("cannot read keytab %s: %v", path, err), err: err}
	}
	kt, err := parseKeytab(b)
	if err != nil {
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("%s is not a keytab: %v", path, err), err: err}
	}
	if len(kt.Entries) == 0 {
		return nil, &Error{kind: ErrKeytab, msg: fmt.Sprintf("keytab %s holds no keys", path)}
	}
	return kt, nil
}

// parseKeytab is gokrb5's keytab parser, made safe for any input: a
// malformed file is an error, never a panic (the parser indexes into the
// bytes by lengths read from them).
func parseKeytab(b []byte) (kt *keytab.Keytab, err error) {
	defer func() {
		if r := recover(); r != nil {
			kt, err = nil, fmt.Errorf("malformed keytab data")
		}
	}()
	kt = keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, err
	}
	for _, e := range kt.Entries {
		if len(e.Principal.Components) == 0 || e.Principal.Realm == "" {
			return nil, fmt.Errorf("entry with an empty principal name")
		}
	}
	return kt, nil
}

func keytabHas(kt *keytab.Keytab, p Principal) bool {
	for _, e := range kt.Entries {
		if e.Principal.Realm == p.Realm && slices.Equal(e.Principal.Components, p.Components) {
			return true
		}
	}
	return false
}

// keytabPrincipals lists the keytab's distinct principals, for a message.
func keytabPrincipals(kt *keytab.Keytab) []string {
	var names []string
	for _, e := range kt.Entries {
		n := Principal{Components: e.Principal.Components, Realm: e.Principal.Realm}.String()
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

func loginCCache(opts Options, conf *config.Config) (*Client, error) {
	name := opts.CCache
	if name == "" {
		name = DefaultCCache()
	}
	path, err := ParseCCacheName(name)
	if err != nil {
		return nil, &Error{kind: ErrCCache, msg: err.Error()}
	}
	cc, err := LoadCCache(path)
	if err != nil {
		return nil, err
	}
	p := Principal{Components: slices.Clone(cc.DefaultPrincipal.PrincipalName.NameString), Realm: cc.DefaultPrincipal.Realm}
	if opts.Principal != "" {
		want, err := ParsePrincipal(opts.Principal, conf.LibDefaults.DefaultRealm)
		if err != nil {
			return nil, &Error{kind: ErrConfig, msg: err.Error()}
		}
		if want.String() != p.String() {
			return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("ticket cache %s holds tickets for %s, not %s", path, p, want)}
		}
	}
	tgt, ok := cc.GetEntry(types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", p.Realm}})
	if !ok {
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("ticket cache %s holds no ticket-granting ticket for %s: run kinit", path, p)}
	}
	if !time.Now().Before(tgt.EndTime) {
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf(
			"the ticket-granting ticket of %s in %s expired at %s: run kinit again, or log in with a keytab",
			p, path, tgt.EndTime.UTC().Format(time.RFC3339))}
	}
	cl, err := client.NewFromCCache(cc, conf, client.DisablePAFXFAST(true))
	if err != nil {
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("ticket cache %s: %v", path, err), err: err}
	}
	return &Client{cl: cl, conf: conf, principal: p, source: "ticket cache " + path}, nil
}

// LoadCCache reads and parses an MIT file ticket cache (format version 4,
// what MIT has written by default for decades). A symlink is followed, as
// MIT does.
func LoadCCache(path string) (*credentials.CCache, error) {
	b, _, err := readFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("ticket cache %s does not exist: run kinit, or log in with a keytab", path), err: err}
	case err != nil:
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("cannot read ticket cache %s: %v", path, err), err: err}
	}
	cc, err := parseCCache(b)
	if err != nil {
		return nil, &Error{kind: ErrCCache, msg: fmt.Sprintf("%s is not a ticket cache: %v", path, err), err: err}
	}
	return cc, nil
}

// parseCCache is gokrb5's ticket cache parser, made safe for any input:
// checkCCache first refuses what would make it allocate without bound, and
// a panic on the rest is an error.
func parseCCache(b []byte) (cc *credentials.CCache, err error) {
	defer func() {
		if r := recover(); r != nil {
			cc, err = nil, fmt.Errorf("malformed ticket cache data")
		}
	}()
	if err := checkCCache(b); err != nil {
		return nil, err
	}
	cc = new(credentials.CCache)
	if err := cc.Unmarshal(b); err != nil {
		return nil, err
	}
	if len(cc.DefaultPrincipal.PrincipalName.NameString) == 0 || cc.DefaultPrincipal.Realm == "" {
		return nil, fmt.Errorf("no default principal")
	}
	return cc, nil
}

// Principal is the client principal logged in.
func (c *Client) Principal() Principal { return c.principal }

// Negotiate returns the value of an HTTP Authorization header for the
// service host/<host> ("Negotiate " and a base64 SPNEGO token holding a
// Kerberos AP-REQ), what Vault's kerberos auth method expects at
// auth/<mount>/login. This is htgettoken's GSSAPI host-based service
// host@<host>, with the host name taken as given (lower-cased, no reverse
// DNS, like htgettoken's rdns = false): the name the site registered for
// Vault, not what its address resolves back to.
//
// Each call builds a new authenticator, so a header is good for one
// request; the service ticket is reused while valid. The value is a
// credential: it must not be logged.
func (c *Client) Negotiate(host string) (string, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || strings.ContainsAny(host, "/@: \t\r\n") {
		return "", &Error{kind: ErrConfig, msg: fmt.Sprintf("Kerberos service host %q: want a bare host name (no scheme, port or path)", host)}
	}
	spn := "host/" + host
	s := spnego.SPNEGOClient(c.cl, spn)
	if err := s.AcquireCred(); err != nil {
		return "", c.explain(err, "")
	}
	tok, err := s.InitSecContext()
	if err != nil {
		return "", c.explain(err, spn)
	}
	b, err := tok.Marshal()
	if err != nil {
		return "", &Error{kind: ErrRejected, msg: fmt.Sprintf("encoding the SPNEGO token for %s: %v", spn, err), err: err}
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b), nil
}

// Close forgets the client's tickets and keys and stops the goroutine
// gokrb5 keeps after a keytab login to renew the ticket-granting ticket;
// every Client must be closed.
func (c *Client) Close() { c.cl.Destroy() }

// explain turns a gokrb5 failure into an *Error that says what to do. spn
// is the service asked for, or "" for the login itself.
func (c *Client) explain(err error, spn string) error {
	p, realm := c.principal.String(), c.principal.Realm
	code := krbCode(err)
	text := err.Error()
	mk := func(kind error, format string, args ...any) error {
		return &Error{kind: kind, msg: fmt.Sprintf(format, args...), err: err}
	}
	switch {
	case code == "KRB_AP_ERR_SKEW" || strings.Contains(text, "clock skew"):
		return mk(ErrClockSkew, "this machine's clock and the clock of the KDC of %s differ by more than the allowed skew (%v): fix the time (NTP) and retry",
			realm, c.conf.LibDefaults.Clockskew)
	case c.fromKeytab && (code == "KDC_ERR_PREAUTH_FAILED" || code == "KRB_AP_ERR_BAD_INTEGRITY" || code == "KRB_AP_ERR_BADKEYVER" ||
		strings.Contains(text, "matching key not found in keytab") || strings.Contains(text, "integrity verification failed") ||
		strings.Contains(text, "error decrypting")):
		return mk(ErrOutOfDate, "the KDC of %s rejected the key for %s in %s (wrong key or key version): the keytab is out of date: re-export it",
			realm, p, c.source)
	case code == "KDC_ERR_PREAUTH_FAILED":
		return mk(ErrRejected, "the KDC of %s rejected the credentials of %s in %s: run kinit again", realm, p, c.source)
	case code == "KDC_ERR_C_PRINCIPAL_UNKNOWN":
		return mk(ErrUnknownPrincipal, "the KDC of %s does not know %s (from %s): check the principal name", realm, p, c.source)
	case code == "KDC_ERR_S_PRINCIPAL_UNKNOWN" && spn != "":
		return mk(ErrUnknownPrincipal, "the KDC of %s does not know the service %s: check the Vault host name; the principal host/<vault host> must exist for Vault's Kerberos login",
			realm, spn)
	case code == "KDC_ERR_CLIENT_REVOKED":
		return mk(ErrRejected, "the KDC of %s refused %s: the principal is locked or disabled (KDC_ERR_CLIENT_REVOKED)", realm, p)
	case code == "KDC_ERR_KEY_EXPIRED":
		return mk(ErrRejected, "the KDC of %s refused %s: its key has expired (KDC_ERR_KEY_EXPIRED); set a new one and re-export the keytab", realm, p)
	case code == "KDC_ERR_ETYPE_NOSUPP":
		return mk(ErrRejected, "the KDC of %s and %s share no encryption type (KDC_ERR_ETYPE_NOSUPP): export the keytab with AES keys", realm, c.source)
	case code != "":
		return mk(ErrRejected, "the KDC of %s refused %s (%s)", realm, p, code)
	case strings.Contains(text, "no KDCs defined"):
		return mk(ErrConfig, "krb5.conf names no KDC for realm %s (add kdc = host to its [realms] entry)", realm)
	case strings.Contains(text, "communicat") || strings.Contains(text, "error sending to") || strings.Contains(text, "dial"):
		// gokrb5's text repeats its wrapping layers; the last one says
		// what happened on the wire.
		detail := text
		if i := strings.LastIndex(text, "error sending to a KDC: "); i >= 0 {
			detail = text[i+len("error sending to a KDC: "):]
		}
		return mk(ErrKDCUnreachable, "cannot reach the KDC of %s (%s): %s", realm, c.kdcList(realm), detail)
	}
	if spn != "" {
		return mk(ErrRejected, "getting a service ticket for %s as %s: %v", spn, p, err)
	}
	return mk(ErrRejected, "Kerberos login of %s from %s: %v", p, c.source, err)
}

// kdcList names the KDCs krb5.conf gives for realm, for a message.
func (c *Client) kdcList(realm string) string {
	var kdcs []string
	for _, r := range c.conf.Realms {
		if r.Realm != realm {
			continue
		}
		for _, k := range r.KDC {
			if !slices.Contains(kdcs, k) {
				kdcs = append(kdcs, k)
			}
		}
	}
	if len(kdcs) == 0 {
		return "none in krb5.conf; looked up in DNS"
	}
	return strings.Join(kdcs, ", ")
}
