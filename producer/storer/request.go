package storer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/credmon/credmon/internal/credname"
)

// Request is one argument condor_submit passes to SEC_CREDENTIAL_STORER:
// service[&handle=H][&scopes=s1,s2][&audience=A][&options=O].
type Request struct {
	// Arg is the argument as given, for messages.
	Arg string
	// Service is the use_oauth_services name: the issuer, optionally
	// followed by "_" and a role.
	Service string
	// Issuer and Role are Service split the way condor_vault_storer splits
	// it: Issuer is the text before the last "_", Role the text after the
	// first "_" (empty without one). More than one "_" is refused, so
	// Service == Issuer or Issuer+"_"+Role.
	Issuer, Role string
	// Handle names a second credential for the same service with reduced
	// scopes or audience, stored as <service>_<handle>.
	Handle string
	// Scopes (comma-separated, as condor_submit joins them) and Audience
	// are the handle's reduced scopes and audience. They need a Handle.
	Scopes, Audience string
	// Options are extra htgettoken-style options for this service
	// (&options=, split at white space).
	Options []string
	// Ignored lists the parts with a key the storer does not know,
	// which condor_vault_storer ignores too (a newer condor_submit may add
	// keys); they are reported at -v.
	Ignored []string
}

// StoreName is the credd name of the handle's credential,
// <service>_<handle>, or "" without a handle.
func (r Request) StoreName() string {
	if r.Handle == "" {
		return ""
	}
	return r.Service + "_" + r.Handle
}

// Errors from ParseRequest; each is wrapped with the argument.
var (
	ErrNoService    = errors.New("no service name")
	ErrBadName      = errors.New("only letters, digits and - + = _ . are allowed in a credential name")
	ErrUnderscores  = errors.New("only one underscore allowed in use_oauth_services name")
	ErrNeedsHandle  = errors.New("reduced scopes or audience require a handle")
	ErrBadPart      = errors.New("an option of a service must be key=value")
	ErrRepeatedPart = errors.New("an option of a service is given twice")
	ErrBadScopes    = errors.New("scopes and audience must not contain white space or control characters")
	ErrLeadingDash  = errors.New("a service name must not start with -")
	ErrEmptyIssuer  = errors.New("the issuer and the role around the underscore must not be empty")
)

// ParseRequest parses one storer argument. It accepts what
// condor_vault_storer accepts and refuses, before anything is stored, what
// credd would refuse later (a name outside credd's character set) or what
// the shell script would store wrongly (a repeated key, whose second value
// the script silently appends or overrides).
//
// Keys: handle, scopes (also "scope", the spelling of the storer's usage
// text), audience, options; other keys are kept in Ignored. An empty value
// is the same as leaving the key out, as in the script.
func ParseRequest(arg string) (Request, error) {
	r := Request{Arg: arg}
	parts := strings.Split(arg, "&")
	r.Service = parts[0]
	if r.Service == "" {
		return r, fmt.Errorf("%q: %w", arg, ErrNoService)
	}
	if !credname.OkayForOAuthFilename(r.Service) {
		return r, fmt.Errorf("service %q: %w", r.Service, ErrBadName)
	}
	if r.Service[0] == '-' {
		// credd would take it, but htgettoken -i and condor_store_cred
		// would read it as an option; it is a misplaced storer option.
		return r, fmt.Errorf("service %q: %w (a misplaced option?)", r.Service, ErrLeadingDash)
	}
	var err error
	if r.Issuer, r.Role, err = SplitService(r.Service); err != nil {
		return r, fmt.Errorf("service %q: %w", r.Service, err)
	}
	seen := map[string]bool{}
	for _, part := range parts[1:] {
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return r, fmt.Errorf("%q in %q: %w", part, arg, ErrBadPart)
		}
		if key == "scope" {
			key = "scopes"
		}
		switch key {
		case "handle", "scopes", "audience", "options":
		default:
			r.Ignored = append(r.Ignored, part)
			continue
		}
		if seen[key] {
			return r, fmt.Errorf("%q in %q: %w", key, arg, ErrRepeatedPart)
		}
		seen[key] = true
		switch key {
		case "handle":
			if val != "" && !credname.OkayForOAuthFilename(val) {
				return r, fmt.Errorf("handle %q: %w", val, ErrBadName)
			}
			r.Handle = val
		case "scopes":
			if !printableNoSpace(val) {
				return r, fmt.Errorf("scopes %q: %w", val, ErrBadScopes)
			}
			r.Scopes = val
		case "audience":
			if !printableNoSpace(val) {
				return r, fmt.Errorf("audience %q: %w", val, ErrBadScopes)
			}
			r.Audience = val
		case "options":
			if f := strings.Fields(val); len(f) > 0 {
				r.Options = f
			}
		}
	}
	if r.Handle == "" && (r.Scopes != "" || r.Audience != "") {
		return r, fmt.Errorf("%q: %w", arg, ErrNeedsHandle)
	}
	return r, nil
}

// SplitService splits a service name into issuer and role the way
// condor_vault_storer does: issuer = text before the last "_", role =
// text after the first "_". When they do not recombine into the name (two
// or more "_") the name is refused, as htgettoken could not be told which
// issuer and role were meant.
func SplitService(service string) (issuer, role string, err error) {
	i := strings.LastIndexByte(service, '_')
	if i < 0 {
		return service, "", nil
	}
	issuer = service[:i]
	role = service[strings.IndexByte(service, '_')+1:]
	if issuer+"_"+role != service {
		return "", "", ErrUnderscores
	}
	if issuer == "" || role == "" {
		// The script would run htgettoken -i "" or -r "", and the
		// credmon skips names that end in "_".
		return "", "", ErrEmptyIssuer
	}
	return issuer, role, nil
}

// printableNoSpace reports whether s has no white space or control bytes:
// scopes and audiences go to condor_store_cred as one argument each and are
// compared string-equal by credd, so a stray space would store a
// credential no later request matches.
func printableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// Flags are the storer's own options.
type Flags struct {
	Verbose bool // -v: progress messages
	Debug   bool // -d: also condor_store_cred's output and the source's details; implies Verbose
}

// ErrUsage is returned for an unknown option or no service at all.
var ErrUsage = errors.New("usage")

// ParseArgs parses the storer's command line like the script's getopts
// "dv": options first (-v, -d, combined as -vd, "--" ends them), then one
// Request per argument. condorOpts are the words of
// SEC_CREDENTIAL_VAULT_STORER_OPTS, parsed before args the same way. Every
// argument is parsed before anything is done, so a bad one stores nothing.
func ParseArgs(condorOpts, args []string) (Flags, []Request, error) {
	var f Flags
	if rest, err := getopts(&f, condorOpts); err != nil {
		return f, nil, err
	} else if len(rest) > 0 {
		return f, nil, fmt.Errorf("SEC_CREDENTIAL_VAULT_STORER_OPTS: %q is not an option: %w", rest[0], ErrUsage)
	}
	rest, err := getopts(&f, args)
	if err != nil {
		return f, nil, err
	}
	if len(rest) == 0 {
		return f, nil, fmt.Errorf("no service given: %w", ErrUsage)
	}
	reqs := make([]Request, 0, len(rest))
	for _, a := range rest {
		r, err := ParseRequest(a)
		if err != nil {
			return f, nil, err
		}
		reqs = append(reqs, r)
	}
	return f, reqs, nil
}

// getopts consumes leading options the way bash's getopts does: it stops
// at the first argument that is not an option ("-" alone is not one) and
// after "--". --verbose and --debug, the long names credmon-producer's
// help gives -v and -d, are accepted too (the script's getopts has no
// long options; nothing valid there changes meaning).
func getopts(f *Flags, args []string) ([]string, error) {
	for i, a := range args {
		switch a {
		case "--":
			return args[i+1:], nil
		case "--verbose":
			f.Verbose = true
			continue
		case "--debug":
			f.Debug, f.Verbose = true, true
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			return args[i:], nil
		}
		for _, c := range a[1:] {
			switch c {
			case 'v':
				f.Verbose = true
			case 'd':
				f.Debug, f.Verbose = true, true
			default:
				return nil, fmt.Errorf("unknown option -%c: %w", c, ErrUsage)
			}
		}
	}
	return nil, nil
}
