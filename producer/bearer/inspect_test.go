package bearer_test

import (
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/producer/bearer"
)

func TestInspect(t *testing.T) {
	exp := t0.Add(2 * time.Hour)
	tests := []struct {
		name       string
		claims     jwt.MapClaims
		wantAud    []string
		wantScopes []string
		wantExp    bool
		check      func(t *testing.T, info *bearer.Info)
	}{
		{
			name:       "IGWN SciToken, aud string",
			claims:     igwnClaims(exp),
			wantAud:    []string{"ANY"},
			wantScopes: []string{"gwdatafind.read", "read:/frames", "storage.read:/igwn"},
			wantExp:    true,
			check: func(t *testing.T, info *bearer.Info) {
				if info.Issuer != "https://cilogon.org/igwn" || info.Subject != "igwnconda-scitoken@ligo.org" {
					t.Errorf("iss, sub = %q, %q", info.Issuer, info.Subject)
				}
				if !info.Expiry.Equal(exp) || !info.IssuedAt.Equal(exp.Add(-3*time.Hour)) || !info.NotBefore.Equal(info.IssuedAt) {
					t.Errorf("exp, iat, nbf = %v, %v, %v", info.Expiry, info.IssuedAt, info.NotBefore)
				}
				if info.Claims["uid"] != "igwnconda" {
					t.Errorf("Claims[uid] = %v; want igwnconda", info.Claims["uid"])
				}
			},
		},
		{
			name:       "WLCG token, aud array",
			claims:     jwt.MapClaims{"aud": []string{"https://a.example", "https://b.example"}, "scope": "storage.read:/ compute.read", "exp": exp.Unix(), "wlcg.ver": "1.0"},
			wantAud:    []string{"https://a.example", "https://b.example"},
			wantScopes: []string{"storage.read:/", "compute.read"},
			wantExp:    true,
		},
		{
			name:       "scp array only",
			claims:     jwt.MapClaims{"scp": []string{"read:/a", "write:/b"}, "exp": exp.Unix()},
			wantScopes: []string{"read:/a", "write:/b"},
			wantExp:    true,
		},
		{
			name:       "scp string",
			claims:     jwt.MapClaims{"scp": "read:/a write:/b", "exp": exp.Unix()},
			wantScopes: []string{"read:/a", "write:/b"},
			wantExp:    true,
		},
		{
			name:       "scope and scp merged without duplicates",
			claims:     jwt.MapClaims{"scope": "read:/a  openid", "scp": []string{"openid", "write:/b"}, "exp": exp.Unix()},
			wantScopes: []string{"read:/a", "openid", "write:/b"},
			wantExp:    true,
		},
		{
			name:   "no exp",
			claims: jwt.MapClaims{"sub": "x"},
			check: func(t *testing.T, info *bearer.Info) {
				if !info.Expiry.IsZero() || !info.IssuedAt.IsZero() || !info.NotBefore.IsZero() {
					t.Errorf("times = %v %v %v; want zero", info.Expiry, info.IssuedAt, info.NotBefore)
				}
			},
		},
		{
			name:    "fractional exp",
			claims:  jwt.MapClaims{"exp": float64(exp.Unix()) + 0.5},
			wantExp: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mint(t, tt.claims)
			info, err := bearer.Inspect(tok + "\n")
			if err != nil {
				t.Fatalf("Inspect() error = %v", err)
			}
			if !slices.Equal(info.Audience, tt.wantAud) {
				t.Errorf("Audience = %q; want %q", info.Audience, tt.wantAud)
			}
			if !slices.Equal(info.Scopes, tt.wantScopes) {
				t.Errorf("Scopes = %q; want %q", info.Scopes, tt.wantScopes)
			}
			if info.HasExpiry != tt.wantExp {
				t.Errorf("HasExpiry = %v; want %v", info.HasExpiry, tt.wantExp)
			}
			if tt.check != nil {
				tt.check(t, info)
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	hdr := b64([]byte(`{"alg":"RS256","typ":"JWT"}`))
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"opaque token", "hvs.CAESIJ0123456789"},
		{"two segments", hdr + "." + b64([]byte(`{}`))},
		{"claims not JSON", hdr + "." + b64([]byte(`not json`)) + ".sig"},
		{"claims not base64url", hdr + ".!!!.sig"},
		{"exp is a string", hdr + "." + b64([]byte(`{"exp":"tomorrow"}`)) + ".sig"},
		{"aud is a number", hdr + "." + b64([]byte(`{"aud":42}`)) + ".sig"},
		{"iss is a number", hdr + "." + b64([]byte(`{"iss":42}`)) + ".sig"},
		{"scope is a number", hdr + "." + b64([]byte(`{"scope":42}`)) + ".sig"},
		{"scp has a number", hdr + "." + b64([]byte(`{"scp":["a",1]}`)) + ".sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if info, err := bearer.Inspect(tt.token); err == nil {
				t.Errorf("Inspect(%q) = %+v, nil; want an error", tt.token, info)
			}
		})
	}
	t.Run("unsigned alg none is still decoded", func(t *testing.T) {
		// Inspect never verifies; a consumer does.
		tok := hdr + "." + b64([]byte(`{"exp":1790000000,"aud":["x"]}`)) + "."
		info, err := bearer.Inspect(tok)
		if err != nil || !info.HasExpiry {
			t.Errorf("Inspect(%q) = %+v, %v; want decoded claims", tok, info, err)
		}
	})
}
