package ready

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const typicalInfo = `[Encryption="YES";Integrity="YES";CryptoMethods="BLOWFISH";CryptoMethodsList="AES.BLOWFISH.3DES";ShortVersion="25.0.13";]`

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	inherit := "4000 <127.0.0.1:9618?addrs=127.0.0.1-9618&alias=host&noUDP&sock=master_4000_beef> 0 0"
	private := " FamilySessionKey:" + katSid + "#" + typicalInfo + katKey
	m, err := FromEnv(envOf(map[string]string{EnvInherit: inherit, EnvPrivateInherit: private}))
	if err != nil {
		t.Fatal(err)
	}
	if m.PID != 4000 || m.Addr.SharedPortID() != "master_4000_beef" || m.Session.ID != katSid || m.Session.Key != katKey ||
		strings.Join(m.Session.Methods, ",") != "AES,BLOWFISH,3DES" || !m.Session.Expires.IsZero() {
		t.Errorf("FromEnv = %+v", m)
	}
	if eps, _ := m.Addr.endpoints(); len(eps) != 1 || eps[0] != "127.0.0.1:9618" {
		t.Errorf("endpoints %v", eps)
	}
	if strings.Contains(m.Session.String(), katKey) {
		t.Error("Session.String shows the key")
	}

	for _, tc := range []struct {
		name             string
		inherit, private string
		want             error // nil: any error
	}{
		{"not started by a master", "", private, ErrNoInherit},
		{"blank", "  ", private, ErrNoInherit},
		{"no family key (USERID set)", inherit, " SessionKey:x#y", ErrNoSession},
		{"no private inherit", inherit, "", ErrNoSession},
		{"no AES", inherit, " FamilySessionKey:" + katSid + `#[CryptoMethods="BLOWFISH,3DES";]` + katKey, ErrNoSession},
		{"expired", inherit, " FamilySessionKey:" + katSid + `#[SessionExpires=1000;]` + katKey, ErrNoSession},
		{"no '#'", inherit, " FamilySessionKey:" + katSid + katKey, ErrNoSession},
		{"empty key", inherit, " FamilySessionKey:" + katSid + "#" + typicalInfo, ErrNoSession},
		{"quote in id", inherit, ` FamilySessionKey:fam"ily#` + katKey, ErrNoSession},
		{"one field", "4000", private, nil},
		{"bad pid", "x <127.0.0.1:1> 0 0", private, nil},
		{"bad sinful", "4000 127.0.0.1:9618 0 0", private, nil},
	} {
		_, err := FromEnv(envOf(map[string]string{EnvInherit: tc.inherit, EnvPrivateInherit: tc.private}))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: FromEnv error %v; want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), katKey) {
			t.Errorf("%s: the error shows the key: %v", tc.name, err)
		}
	}
}

func TestParseClaimID(t *testing.T) {
	now := time.Unix(2000, 0)
	for _, tc := range []struct {
		claim, id, key string
		methods        string
	}{
		// The id is everything before the last '#' (a family id has none).
		{"family:a#key", "family:a", "key", "AES,BLOWFISH,3DES"},
		// No info: the key follows the '#'.
		{"family:1#k", "family:1", "k", "AES,BLOWFISH,3DES"},
		// The info ends at the last ']'; CryptoMethodsList wins.
		{`s#[CryptoMethods="BLOWFISH";CryptoMethodsList="aes.3DES";]]k]ey`, "s", "ey", "AES,3DES"},
		{`s#[CryptoMethods="3DES,AES";SessionExpires=3000;]k`, "s", "k", "3DES,AES"},
	} {
		s, err := parseClaimID(tc.claim, now)
		if err != nil {
			t.Errorf("%q: %v", tc.claim, err)
			continue
		}
		if s.ID != tc.id || s.Key != tc.key || strings.Join(s.Methods, ",") != tc.methods {
			t.Errorf("%q: %+v", tc.claim, s)
		}
	}
}

func TestParseSinful(t *testing.T) {
	s, err := ParseSinful("<[::1]:9618?addrs=[--1]-9618+127.0.0.1-9620&sock=master_1_ab%2Dc;noUDP&alias=h&sock=x.y-z_1>")
	if err != nil {
		t.Fatal(err)
	}
	if s.Host != "::1" || s.Port != 9618 || s.SharedPortID() != "x.y-z_1" {
		t.Errorf("%+v", s)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("[::1]:9618"), netip.MustParseAddrPort("127.0.0.1:9620")}
	if len(s.Addrs) != 2 || s.Addrs[0] != want[0] || s.Addrs[1] != want[1] {
		t.Errorf("addrs %v", s.Addrs)
	}
	if eps, _ := s.endpoints(); strings.Join(eps, " ") != "127.0.0.1:9620 [::1]:9618" {
		t.Errorf("endpoints %v; want IPv4 first", eps)
	}
	for _, bad := range []string{"", "<>", "<host:port>", "<h:1>x", "h:1", "<h:1?sock=a/b>", "<h:1?addrs=1.2.3.4>",
		"<[::1:1>", "<h:70000>", "<h:1?a=%zz>"} {
		if _, err := ParseSinful(bad); err == nil {
			t.Errorf("ParseSinful(%q) succeeded", bad)
		}
	}
	for _, port0 := range []string{"<127.0.0.1:0?sock=master_1_ab>", "<host>"} {
		s, err := ParseSinful(port0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.endpoints(); err == nil {
			t.Errorf("%s: no error for an address we cannot connect to", port0)
		}
	}
}

// The fuzz targets hold the parsers to: no panic, no secret in an error,
// and a result that keeps the grammar's promises. Seeds are in
// testdata/fuzz as well as here.

func FuzzParseSinful(f *testing.F) {
	for _, s := range []string{"<127.0.0.1:9618?addrs=127.0.0.1-9618&alias=host&noUDP&sock=master_4000_beef>",
		"<[::1]:9618?addrs=[--1]-9618>", "<h?a=%41;b&c=>", "<h:1?addrs=1.2.3.4-5+[-]-6>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := ParseSinful(v)
		if err != nil {
			return
		}
		if id := s.SharedPortID(); id != "" && !validSharedPortID(id) {
			t.Errorf("invalid sock id %q accepted", id)
		}
		if s.Port > 65535 || s.Host == "" {
			t.Errorf("%+v", s)
		}
		s.endpoints()
	})
}

func FuzzParseInherit(f *testing.F) {
	f.Add("4000 <127.0.0.1:9618?sock=master_4000_beef> 0 0")
	f.Add("1 <h:2> 1 x 0 SharedPort:<h:3> 0")
	f.Add("-1 <h:2>")
	f.Fuzz(func(t *testing.T, v string) {
		ppid, _, err := parseInherit(v)
		if err == nil && ppid <= 0 {
			t.Errorf("ppid %d accepted", ppid)
		}
	})
}

func FuzzParsePrivateInherit(f *testing.F) {
	f.Add(" FamilySessionKey:"+katSid+"#", typicalInfo, []byte(katKey))
	f.Add(" SessionKey:a#b FamilySessionKey:a#", "[SessionExpires=1;]", []byte("k"))
	f.Add(" FamilySessionKey:a#", `[CryptoMethods="BLOWFISH";]`, []byte("k"))
	f.Add(" FamilySessionKey:", `a#[CryptoMethodsList="";CryptoMethods="AES,3DES";SessionExpires=x]`, []byte{0xff, 0})
	f.Fuzz(func(t *testing.T, prefix, info string, key []byte) {
		hexKey := hex.EncodeToString(key)
		s, err := parsePrivateInherit(prefix+info+hexKey, time.Unix(2000, 0))
		if err != nil {
			// The key is the secret: an error never quotes it.
			if len(hexKey) >= 8 && !strings.Contains(prefix+info, hexKey) && strings.Contains(err.Error(), hexKey) {
				t.Errorf("error %q shows the key", err)
			}
			return
		}
		if s.Key == "" || s.ID == "" || !safeLiteral(s.ID) {
			t.Errorf("%+v", s)
		}
		if !slices.Contains(s.Methods, "AES") {
			t.Errorf("a session without AES accepted: %v", s.Methods)
		}
		if !s.Expires.IsZero() && !s.Expires.After(time.Unix(2000, 0)) {
			t.Errorf("an expired session accepted: %v", s.Expires)
		}
	})
}
