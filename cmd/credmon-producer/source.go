//go:build !credmontest

package main

import (
	"context"
	"errors"

	"github.com/credmon/credmon/producer/storer"
)

// errNoVaultSource is every Vault service's answer until the Vault source
// (producer/source, on internal/vault) is plugged in here.
var errNoVaultSource = errors.New("the Vault source is not built into this credmon-producer yet; use HTCondor's condor_vault_storer for Vault services")

type noVaultSource struct{}

func (noVaultSource) Obtain(context.Context, storer.SourceRequest) (*storer.Credential, error) {
	return nil, errNoVaultSource
}

func newSource() storer.Source { return noVaultSource{} }
