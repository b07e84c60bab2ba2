//go:build !credmontest

package main

import (
	"github.com/credmon/credmon/producer/storer"
	"github.com/credmon/credmon/producer/vaultsource"
)

// newSource is the shipped storer's Source: Vault, as condor_vault_storer's
// htgettoken runs (producer/vaultsource, which credmon-token get --condor
// runs too).
func newSource() storer.Source { return &vaultsource.Source{UserAgent: "credmon-producer"} }
