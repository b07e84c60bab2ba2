package vaulttest

import (
	"time"

	"github.com/credmon/credmon/internal/kdc"
	"github.com/credmon/credmon/internal/oidcprovider"
)

// Host is the server's name in its certificate (besides 127.0.0.1 and
// ::1), so its Kerberos service is host/localhost.
const Host = "localhost"

// The robot of the Vault end-to-end tests (credmon-token get's Vault
// source, credmon-producer's storer): a Kerberos principal whose Vault
// credential igwn-robot-get's defaults name, role "robot" of issuer
// "igwn", credkey the principal.
const (
	RobotPrincipal = "robot/ap1.credmon.test"
	RobotCredKey   = RobotPrincipal
	RobotRole      = "robot"
	RobotIssuer    = "igwn"
)

// Site is a robot's site: a KDC knowing the robot and Vault's Kerberos
// service, an OIDC provider issuing 3 h access tokens (so that a minimum
// lifetime of an hour can be met), and Vault backed by it, with the
// robot's issuer and role and Kerberos logins checked against the KDC.
type Site struct {
	KDC      *kdc.KDC
	Provider *oidcprovider.Provider
	Vault    *Server
}

// StartSite starts a Site. opts are Vault's options; StartSite sets their
// Provider, Issuer, Role and KerberosKeytab.
func StartSite(t TB, opts Options) *Site {
	t.Helper()
	s := &Site{KDC: kdc.StartKDC(t, kdc.Options{Users: []string{RobotPrincipal}, Hosts: []string{Host}})}
	s.Provider = oidcprovider.StartOIDCProvider(t, oidcprovider.ProviderOptions{AccessTokenTTL: 3 * time.Hour})
	opts.Provider, opts.Issuer, opts.Role = s.Provider, RobotIssuer, RobotRole
	opts.KerberosKeytab = s.KDC.ServiceKeytab(Host)
	s.Vault = Start(t, opts)
	return s
}

// Seed stores a refresh token for the robot's credential in Vault, as an
// earlier OIDC login would have, approved at the provider as user
// RobotRole.
func (s *Site) Seed(t TB) {
	t.Helper()
	g := s.Provider.NewRefreshToken(t, oidcprovider.GrantRequest{Scope: "openid offline_access storage.read:/data", User: RobotRole})
	s.Vault.SeedRefreshToken(RobotIssuer, RobotCredKey, RobotRole, g.RefreshToken)
}
