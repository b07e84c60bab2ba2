package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRefusesRoot(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(nil, &stderr, 0); code != 1 || !strings.Contains(stderr.String(), "refusing to run as root") {
		t.Errorf("as root: exit %d, %q", code, stderr.String())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("CONDOR_CONFIG", "/nonexistent/condor_config")
	var stderr bytes.Buffer
	if code := run([]string{"-c", t.TempDir()}, &stderr, 1000); code != 1 {
		t.Errorf("unreadable config: exit %d; want 1 (%s)", code, stderr.String())
	}
	if code := run([]string{"-bogus"}, &stderr, 1000); code != 2 {
		t.Errorf("bad flag: exit %d; want 2", code)
	}
}

// TestServesTLSFromTheConfig runs the command as a site would: the HTCondor
// configuration names the credential directory, the prefix, the address
// and a certificate; the app answers over TLS under the prefix and stops
// on SIGTERM.
func TestServesTLSFromTheConfig(t *testing.T) {
	dir := t.TempDir()
	credDir := filepath.Join(dir, "creds")
	if err := os.Mkdir(credDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "condor_config")
	os.WriteFile(cfg, []byte("SEC_CREDENTIAL_DIRECTORY_OAUTH = "+credDir+"\nCREDMON_WEB_PREFIX = https://localhost/creds\n"+
		"CREDMON_WEB_LISTEN = "+addr+"\nCREDMON_WEB_TLS_CERTIFICATE = "+certFile+"\nCREDMON_WEB_TLS_KEY = "+keyFile+"\n"), 0o644)
	t.Setenv("CONDOR_CONFIG", cfg)
	t.Setenv("PATH", "/nonexistent") // no condor_config_val: the native parser

	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(nil, &stderr, 1000) }()
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; { // a bound against a hang
		resp, err = c.Get("https://" + addr + "/creds/key/" + strings.Repeat("0", 64))
		if err == nil || time.Now().After(deadline) {
			break
		}
		select {
		case n := <-code:
			t.Fatalf("run exited %d: %s", n, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatalf("%v; log: %s", err, stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("unknown key over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if n := <-code; n != 0 {
		t.Errorf("exit %d after SIGTERM: %s", n, stderr.String())
	}
	if !strings.Contains(stderr.String(), "TLS: true") {
		t.Errorf("log: %s", stderr.String())
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The command line is the house's: help on stdout with -x, --long pairs,
// usage errors in one line with a hint and exit 2, the man page from the
// same definition.
func TestCommandLine(t *testing.T) {
	var stderr strings.Builder
	if code := run([]string{"--bogus"}, &stderr, 1000); code != 2 ||
		!strings.Contains(stderr.String(), "unknown flag: --bogus") || !strings.Contains(stderr.String(), "see credmon-web --help") {
		t.Errorf("--bogus: exit %d, %q; want 2 with the hint", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"extra"}, &stderr, 1000); code != 2 {
		t.Errorf("a positional argument: exit %d, %q; want 2", code, stderr.String())
	}
	var o options
	help := newCommand(&o).Flags().FlagUsages()
	for _, want := range []string{"-n, --name NAME", "-c, --cred-dir DIR", "--listen HOST:PORT"} {
		if strings.Count(help, want) != 1 {
			t.Errorf("help lists %q %d times; want once:\n%s", want, strings.Count(help, want), help)
		}
	}
	dir := t.TempDir()
	if code := run([]string{"--gen-man", dir}, &stderr, 1000); code != 0 {
		t.Fatalf("--gen-man: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "credmon-web.8"))
	if err != nil || !strings.Contains(string(b), "cred-dir") {
		t.Errorf("credmon-web.8: %v; want the page with the options", err)
	}
}
