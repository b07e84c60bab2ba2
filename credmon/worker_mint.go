package credmon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/classad"
	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/credmon/knobs"
	"github.com/credmon/credmon/credmon/localissuer"
	"github.com/credmon/credmon/internal/tokenclient"
)

// localIssuer is one local-issuer provider (LOCAL_CREDMON_PROVIDER_NAMES)
// for the current configuration generation: its knobs, its parsed
// AUTHZ_TEMPLATE_EXPR and its signing key. Workers share it.
type localIssuer struct {
	cfg     *knobs.Local
	err     error        // unusable configuration: no token until it changes
	expr    classad.Expr // nil: no AUTHZ_TEMPLATE_EXPR
	exprErr error        // AUTHZ_TEMPLATE_EXPR does not parse: logged, ignored

	log hclog.Logger // the local issuer's logger

	mu      sync.Mutex
	key     *localissuer.Key
	keyStat keyFileID // the file the key was read from
	keyErr  error
}

// keyFileID identifies one version of the key file, so a key replaced on
// disk (rotation) is picked up at the next mint without a restart.
type keyFileID struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
	// mode: a chmod (the fix for a key refused for its mode) changes
	// nothing else, and must be noticed without a restart.
	mode fs.FileMode
}

// signingKey returns the provider's key, re-reading the file when it
// changed since the last read (one stat per mint).
func (li *localIssuer) signingKey() (*localissuer.Key, error) {
	fi, err := os.Stat(li.cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", li.cfg.PrivateKey, err)
	}
	id := keyFileID{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
	}
	li.mu.Lock()
	defer li.mu.Unlock()
	if li.key != nil || li.keyErr != nil {
		if id == li.keyStat {
			return li.key, li.keyErr
		}
	}
	li.keyStat = id
	li.key, li.keyErr = localissuer.LoadPrivateKey(li.cfg.PrivateKey, li.cfg.Algorithm, li.cfg.KeyID)
	if li.key != nil && li.key.ModeWarning != "" && li.log != nil {
		li.log.Warn(li.key.ModeWarning) // once per version of the key file
	}
	return li.key, li.keyErr
}

// mintConfig is the claim configuration of the provider.
func (li *localIssuer) mintConfig() localissuer.Config {
	c := li.cfg
	return localissuer.Config{
		Issuer: c.Issuer, Lifetime: c.Lifetime, Audience: c.Audience, Version: c.Version,
		AuthzTemplate: c.AuthzTemplate, AuthzGroupTemplate: c.AuthzGroupTemplate,
	}
}

// localOutcome carries what a mint learned that the Run goroutine logs.
type localOutcome struct {
	denied   string // the group the user lacks: an empty token was written
	warnings []string
}

// mint writes a fresh locally signed token for j (a worker). The .top's
// content is ignored: credd writes "<user>@<domain>" there (observed on 25.14),
// and the subject is always the cred-dir user name, as in LocalCredmon.
func (w *worker) mint(ctx context.Context, j *job) *result {
	r := &result{c: j.c, local: &localOutcome{}}
	fail := func(err error, permanent bool) *result {
		r.outcome, r.err, r.perm = outFailed, err, permanent
		return r
	}
	li := j.local
	if li == nil || li.err != nil {
		err := errors.New("local issuer not configured")
		if li != nil {
			err = li.err
		}
		return fail(err, true)
	}
	if err := ctx.Err(); err != nil {
		return fail(err, false)
	}
	d, err := w.dir.OpenDir(j.user)
	if err != nil {
		if r.goneIf(err) {
			return r
		}
		return fail(err, false)
	}
	defer d.Close()
	topSt, err := d.Stat(j.name + credfile.SuffixTop)
	if err != nil {
		if r.goneIf(err) {
			return r
		}
		return fail(err, false)
	}
	r.top = topSt.ID()

	cfg := li.cfg
	req, denied, warnings, err := authzRequest(li, j.user)
	r.local.warnings = warnings
	if err != nil {
		var pe *tokenclient.PermanentError
		return fail(err, errors.As(err, &pe))
	}
	token := ""
	if denied != "" {
		// HTCONDOR-3397: an empty token, so condor_submit's wait for the
		// .use ends instead of hanging until its timeout.
		r.local.denied = denied
	} else {
		key, err := li.signingKey()
		if err != nil {
			return fail(err, false)
		}
		minter := localissuer.Minter{Key: key, Config: li.mintConfig(), Now: w.now}
		token, err = minter.Mint(req)
		if err != nil {
			// A claim rule (e.g. scitoken:2.0 without an audience) or a
			// template error: only a configuration change can fix it.
			return fail(err, true)
		}
	}
	use := localissuer.EncodeUse(token, cfg.Lifetime, cfg.UseJSON)
	now := w.now()
	st, err := w.replace(d, j.user, j.name+credfile.SuffixUse, use)
	if err != nil {
		if r.goneIf(err) {
			return r
		}
		return fail(fmt.Errorf("writing .use: %w", err), false)
	}
	r.wroteUse(d, st)
	r.issued, r.expiry, r.expiryKnown = now, now.Add(cfg.Lifetime), true
	r.outcome = outOK
	return r
}

// authzRequest is what li's authz knobs grant user: the claims request
// (the group mapfile read now, as LocalCredmon reads it on every mint, so
// group changes apply without a reconfig; AUTHZ_TEMPLATE_EXPR evaluated),
// or the AUTHZ_GROUP_REQUIREMENT group the user is not in (denied). The
// local mint signs it; the client-credentials type asks its server for
// the same scopes (worker_client.go). A *tokenclient.PermanentError is an
// error only the configuration can fix; warnings are for the loop's log.
func authzRequest(li *localIssuer, user string) (req localissuer.Request, denied string, warnings []string, err error) {
	cfg := li.cfg
	req = localissuer.Request{Username: user}
	var groups []string
	if cfg.AuthzGroupRequirement != "" || cfg.AuthzGroupTemplate != "" {
		switch data, err := os.ReadFile(cfg.AuthzGroupMapfile); {
		case cfg.AuthzGroupMapfile == "" && cfg.AuthzGroupRequirement != "":
			return req, "", warnings, &tokenclient.PermanentError{Err: fmt.Errorf("AUTHZ_GROUP_REQUIREMENT is %q but AUTHZ_GROUP_MAPFILE is not set", cfg.AuthzGroupRequirement)}
		case cfg.AuthzGroupMapfile == "":
			warnings = append(warnings, "AUTHZ_GROUP_TEMPLATE is set but AUTHZ_GROUP_MAPFILE is not: no group scopes")
		case err != nil && cfg.AuthzGroupRequirement != "":
			// Without the mapfile membership cannot be decided: no token
			// (not an empty one), retried with backoff.
			return req, "", warnings, fmt.Errorf("reading group mapfile: %w", err)
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("reading group mapfile: %v; no group scopes", err))
		default:
			groups, _ = localissuer.GroupsFor(data, user)
		}
	}
	if cfg.AuthzGroupRequirement != "" && !slices.Contains(groups, cfg.AuthzGroupRequirement) {
		return req, cfg.AuthzGroupRequirement, warnings, nil
	}
	if cfg.AuthzGroupTemplate != "" {
		req.Groups = groups
	}
	if li.expr != nil {
		v := authzExprValue(li.expr, user)
		if s, ok := v.StringValue(); ok {
			req.ExprScope, req.HasExprScope = s, true
		} else {
			why := v.String()
			if reason := v.Reason(); reason != "" {
				why += " (" + reason + ")"
			}
			warnings = append(warnings, fmt.Sprintf("AUTHZ_TEMPLATE_EXPR evaluated to %s, not a string; ignoring it", why))
		}
	}
	return req, "", warnings, nil
}

// authzExprValue evaluates AUTHZ_TEMPLATE_EXPR as LocalCredmon does
// (docs/htcondor-contract.md#local-issuer): in an ad with the user name as the string Username and the
// expression itself bound to Scopes, by evaluating Scopes. So the
// expression sees both attributes; one that reads Scopes refers to itself,
// which is a circular reference (ERROR), as in the Python credmon, not
// UNDEFINED.
func authzExprValue(expr classad.Expr, user string) classad.Value {
	ad := classad.NewAd()
	ad.SetString("Username", user)
	ad.Set("Scopes", expr)
	return ad.Eval("Scopes")
}
