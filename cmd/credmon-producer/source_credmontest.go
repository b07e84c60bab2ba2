//go:build credmontest

package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"

	"github.com/credmon/credmon/producer/storer"
)

// fixedSource is the tests' Source (built with -tags credmontest): it
// returns fixed Vault-shaped credentials instead of logging in to Vault,
// so the tests can run the real binary under condor_submit's argv and
// environment. It makes a new credential when asked to renew, or always
// with CREDMON_PRODUCER_TEST_NEW=1 (the 7-day token expired), and appends
// each request to CREDMON_PRODUCER_TEST_LOG as a JSON line.
type fixedSource struct{}

// SourceCall is one logged request.
type SourceCall struct {
	Service, Issuer, Role, Handle, Scopes, Audience, ID string
	Options                                             []string
	Renew                                               bool
}

func (fixedSource) Obtain(_ context.Context, req storer.SourceRequest) (*storer.Credential, error) {
	if p := os.Getenv("CREDMON_PRODUCER_TEST_LOG"); p != "" {
		b, err := json.Marshal(SourceCall{
			Service: req.Service, Issuer: req.Issuer, Role: req.Role, Handle: req.Handle,
			Scopes: req.Scopes, Audience: req.Audience, ID: req.ID, Options: req.GettokenOptions, Renew: req.Renew,
		})
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		_, err = f.Write(append(b, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	credkey := "default"
	for _, o := range req.GettokenOptions {
		if v, ok := strings.CutPrefix(o, "--credkey="); ok {
			credkey = v
		}
	}
	role := req.Role
	if role == "" {
		role = "default"
	}
	path := req.Issuer + "/" + credkey + ":" + role
	c := &storer.Credential{New: req.Renew || os.Getenv("CREDMON_PRODUCER_TEST_NEW") == "1"}
	if c.New {
		c.Service, _ = json.Marshal(map[string]string{
			"vault_token": "fixed-vault-token-" + req.Service,
			"vault_url":   "https://vault.example:8200/v1/secret/oauth/creds/" + path,
		})
	}
	if req.Handle != "" {
		c.Handle, _ = json.Marshal(map[string]string{"vault_url": "https://vault.example:8200/v1/secret/oauth/sts/" + path})
	}
	return c, nil
}

func newSource() storer.Source { return fixedSource{} }
