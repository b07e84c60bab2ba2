package vaulttest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jcmturner/goidentity/v6"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// KeytabVerifier returns a KerberosVerifier that checks the Negotiate
// header as Vault's kerberos auth method does: gokrb5's SPNEGO acceptor
// with the service keytab of host/<vault host> (internal/kdc's
// ServiceKeytab), so a login needs a real ticket from the KDC for that
// service. It returns the client principal as name@REALM.
//
// The PAC is not decoded: MIT's KDC (since 1.20) puts one in every ticket
// but without the Active Directory logon info gokrb5 would insist on.
func KeytabVerifier(path string) (func(negotiateHeader string) (string, error), error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("vaulttest: loading the service keytab: %w", err)
	}
	return func(hdr string) (string, error) {
		var who string
		h := spnego.SPNEGOKRB5Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id := goidentity.FromHTTPRequestContext(r); id != nil {
				who = id.UserName() + "@" + id.Domain()
			}
		}), kt, service.DecodePAC(false))
		req := httptest.NewRequest(http.MethodPost, "/v1/auth/kerberos/login", nil)
		req.Header.Set("Authorization", hdr)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || who == "" {
			return "", errors.New("SPNEGO token rejected")
		}
		return who, nil
	}, nil
}
