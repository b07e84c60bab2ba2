package main

// Exit statuses that get and renew must agree on.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credmon/credmon/internal/oidcprovider"
)

// A token path that is a directory or a FIFO cannot be replaced: exit 7
// (file permissions) for get and for renew alike, not 1.
func TestTokenPathNotAFileExitsPermission(t *testing.T) {
	r := newRobot(t)
	r.storeAccount("robot", "rob", oidcprovider.ClientIDBasic)
	dir := filepath.Join(r.base, "dir")
	fifo := filepath.Join(r.base, "fifo")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, fifo} {
		code, _, errOut := r.run("get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure", "-o", path)
		if code != exitPermission || !strings.Contains(errOut, path) {
			t.Errorf("get -o %s: exit %d (%s); want %d naming the path", filepath.Base(path), code, errOut, exitPermission)
		}
		ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token t]\naccount = robot\ntoken_path = %s\n", r.pwFile, path))
		if code, _, errOut := r.run(r.renewArgs(ini)...); code != exitPermission || !strings.Contains(errOut, path) {
			t.Errorf("renew to %s: exit %d (%s); want %d naming the path", filepath.Base(path), code, errOut, exitPermission)
		}
	}
	// The refreshes spent on the way were saved: the account still works.
	if code, _, errOut := r.run("get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "--insecure",
		"-o", filepath.Join(r.base, "bt")); code != 0 {
		t.Fatalf("get to a real file: exit %d: %s", code, errOut)
	}
}

// An http:// issuer without --insecure is refused before anything is
// sent: a configuration error (3) for get and renew alike, since only the
// configuration (an https URL, or --insecure in a lab) can fix it; the
// issuer refused nothing (6).
func TestInsecureIssuerExitsConfigForGetAndRenew(t *testing.T) {
	r := newRobot(t)
	r.storeAccount("robot", "rob", oidcprovider.ClientIDBasic)
	code, _, errOut := r.run("get", "--account", "robot", "--pw-file", r.pwFile, "--config-dir", r.acctDir, "-o", filepath.Join(r.base, "bt"))
	if code != exitConfig || !strings.Contains(errOut, "https") {
		t.Errorf("get: exit %d (%s); want %d", code, errOut, exitConfig)
	}
	ini := r.writeIni("config.ini", fmt.Sprintf("[account robot]\npassword_file = %s\n[token t]\naccount = robot\ntoken_path = %s\n",
		r.pwFile, filepath.Join(r.base, "t.token")))
	args := []string{"renew", "--config", ini, "--config-dir", r.acctDir,
		"--lock", filepath.Join(r.base, "renew.lock"), "--state", filepath.Join(r.base, "status.json")}
	if code, _, errOut := r.run(args...); code != exitConfig || !strings.Contains(errOut, "https") {
		t.Errorf("renew: exit %d (%s); want %d", code, errOut, exitConfig)
	}
	// client credentials: the token_request_url, same status.
	ini = r.writeIni("cc.ini", fmt.Sprintf("[account cc]\ntoken_request_url = %s/token\nclient_id = %s\nclient_secret = %s\n"+
		"[token t]\naccount = cc\ntoken_path = %s\n", r.idp.Issuer, oidcprovider.ClientIDBasic, oidcprovider.ClientSecret, filepath.Join(r.base, "t.token")))
	args[2] = ini
	if code, _, errOut := r.run(args...); code != exitConfig {
		t.Errorf("renew, client credentials: exit %d (%s); want %d", code, errOut, exitConfig)
	}
	if code, _, errOut := r.run("get", "--client-id", oidcprovider.ClientIDBasic, "--client-secret-file", r.pwFile,
		"--issuer", r.idp.Issuer, "-o", filepath.Join(r.base, "bt")); code != exitConfig {
		t.Errorf("get, client credentials: exit %d (%s); want %d", code, errOut, exitConfig)
	}
}

// A client_secret_file that does not exist is reported as the client
// secret file, with its path and the key that names it, by renew and by
// get --token alike; never as a password.
func TestMissingClientSecretFileIsNamed(t *testing.T) {
	r := newRobot(t)
	missing := filepath.Join(r.base, "no-such.secret")
	ini := r.writeIni("cc.ini", fmt.Sprintf("[account cc]\ntoken_request_url = %s\nclient_id = %s\nclient_secret_file = %s\n"+
		"[token t]\naccount = cc\ntoken_path = %s\n", r.idp.TokenURL, oidcprovider.ClientIDBasic, missing, filepath.Join(r.base, "t.token")))
	for _, args := range [][]string{
		{"renew", "--config", ini, "--config-dir", r.acctDir, "--insecure",
			"--lock", filepath.Join(r.base, "renew.lock"), "--state", filepath.Join(r.base, "status.json")},
		{"get", "--token", "t", "--config", ini, "--insecure", "-o", filepath.Join(r.base, "bt")},
	} {
		code, _, errOut := r.run(args...)
		if code == 0 {
			t.Errorf("%s: exit 0 with a missing client secret file", args[0])
		}
		for _, want := range []string{"client secret file " + missing, "client_secret_file in [account cc]"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr %q; want it to say %q", args[0], errOut, want)
			}
		}
		if strings.Contains(errOut, "password") {
			t.Errorf("%s: stderr %q speaks of a password", args[0], errOut)
		}
	}
}
