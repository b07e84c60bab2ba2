package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/credmon/credmon/examples/internal/show"
	"github.com/credmon/credmon/internal/oidcprovider"
)

func main() {
	bin := flag.String("credmon", "bin/credmon", "the credmon binary to run")
	flag.Parse()
	if err := run(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(bin string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "credmon-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	show.Step("Starting a local OIDC provider (stands in for the site's IdP: rotating refresh tokens, JWT access tokens)")
	idp, err := oidcprovider.LaunchOIDCProvider(oidcprovider.ProviderOptions{AccessTokenTTL: 20 * time.Minute})
	if err != nil {
		return err
	}
	defer idp.Stop()
	fmt.Printf("    issuer %s\n", idp.Issuer)

	credDir := filepath.Join(tmp, "oauth_credentials")
	secret := filepath.Join(tmp, "myidp_client_secret")
	if err := os.WriteFile(secret, []byte(oidcprovider.ClientSecret+"\n"), 0o600); err != nil {
		return err
	}
	config := filepath.Join(tmp, "condor_config")
	conf := fmt.Sprintf(`# What an HTCondor access point would have (see examples/condor/40-credmon.conf)
SEC_CREDENTIAL_DIRECTORY_OAUTH = %s
MYIDP_CLIENT_ID          = %s
MYIDP_CLIENT_SECRET_FILE = %s
MYIDP_ISSUER             = %s
# The demo IdP speaks plain http on 127.0.0.1; production token URLs must be https.
CREDMON_OAUTH_ALLOW_INSECURE_TOKEN_URL = True
`, credDir, oidcprovider.ClientIDPost, secret, idp.Issuer)
	if err := os.WriteFile(config, []byte(conf), 0o644); err != nil {
		return err
	}
	show.Step("HTCondor configuration (%s):", config)
	fmt.Print(show.Indent(conf))

	show.Step("Starting the daemon as condor_master would: %s -v  (log lines below are prefixed with |)", bin)
	daemon := exec.Command(bin, "-v")
	daemon.Env = append(os.Environ(), "CONDOR_CONFIG="+config)
	stderr, _ := daemon.StderrPipe()
	if err := daemon.Start(); err != nil {
		return err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Println("    | " + sc.Text())
		}
	}()
	defer daemon.Process.Kill()
	pidFile := filepath.Join(credDir, "pid")
	if err := show.WaitFor(10*time.Second, 10*time.Millisecond, func() bool { _, err := os.Stat(pidFile); return err == nil }); err != nil {
		return fmt.Errorf("the daemon wrote no pid file: %w", err)
	}

	show.Step("User alice logs in at the IdP (device flow, approved by a script) asking for a narrow token")
	scopes, audience := "storage.read:/home/alice,compute.read", "https://storage.example.org"
	grant, err := idp.DeviceGrant(context.Background(), oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost,
		ClientSecret: oidcprovider.ClientSecret, Scope: strings.ReplaceAll(scopes, ",", " "), Audience: audience, User: "alice"})
	if err != nil {
		return err
	}

	show.Step("Playing condor_credd: store alice/myidp.top (no .meta: the Python credmon would never serve it), SIGHUP the pid, wait for the .use")
	userDir := filepath.Join(credDir, "alice")
	if err := os.Mkdir(userDir, 0o700); err != nil {
		return err
	}
	top, _ := json.Marshal(map[string]string{"refresh_token": grant.RefreshToken, "scopes": scopes, "audience": audience})
	if err := os.WriteFile(filepath.Join(userDir, "myidp.top.tmp"), top, 0o600); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(userDir, "myidp.top.tmp"), filepath.Join(userDir, "myidp.top")); err != nil {
		return err
	}
	pidBytes, err := os.ReadFile(pidFile)
	if err != nil {
		return err
	}
	pid, _ := strconv.Atoi(string(pidBytes))
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return err
	}
	usePath := filepath.Join(userDir, "myidp.use")
	if err := show.WaitFor(20*time.Second, 10*time.Millisecond, func() bool { _, err := os.Stat(usePath); return err == nil }); err != nil {
		return fmt.Errorf("no .use within credd's 20 s: %w", err)
	}
	fmt.Printf("    alice/myidp.use appeared %v after the SIGHUP (credd polls once a second)\n", time.Since(start).Round(time.Millisecond))

	use, _ := os.ReadFile(usePath)
	var useObj map[string]any
	if err := json.Unmarshal(use, &useObj); err != nil {
		return err
	}
	at, _ := useObj["access_token"].(string)
	fi, _ := os.Stat(usePath)
	show.Step("The job's token, %s (mode %v, one line of JSON; token shortened here):", usePath, fi.Mode().Perm())
	shown := strings.Replace(string(use), at, at[:24]+"…", 1)
	fmt.Println(show.Indent(shown))
	claims, err := idp.ParseAccessToken(context.Background(), at)
	if err != nil {
		return fmt.Errorf("verifying the access token: %w", err)
	}
	show.Step("Its claims, signature verified against the IdP's JWKS:")
	for _, k := range []string{"iss", "sub", "aud", "scope", "client_id", "iat", "exp"} {
		v := claims[k]
		if f, ok := v.(float64); ok && (k == "iat" || k == "exp") {
			t := time.Unix(int64(f), 0)
			if d := time.Until(t).Round(time.Second); d > 0 {
				v = fmt.Sprintf("%s (in %v)", t.Format(time.RFC3339), d)
			} else {
				v = fmt.Sprintf("%s (%v ago)", t.Format(time.RFC3339), -d)
			}
		}
		fmt.Printf("    %-9s %v\n", k, v)
	}

	newTop, _ := os.ReadFile(filepath.Join(userDir, "myidp.top"))
	var topObj map[string]string
	json.Unmarshal(newTop, &topObj)
	show.Step("alice/myidp.top after the refresh: the IdP rotated the refresh token and it was saved first; scopes and audience kept")
	fmt.Printf("    refresh token rotated: %v\n    scopes:   %s\n    audience: %s\n", topObj["refresh_token"] != grant.RefreshToken, topObj["scopes"], topObj["audience"])

	show.Step("Stopping the daemon as condor_off would (SIGTERM)")
	daemon.Process.Signal(syscall.SIGTERM)
	err = daemon.Wait()
	_, pidErr := os.Stat(pidFile)
	fmt.Printf("    exit status: %v; pid file removed: %v\n", show.ExitStatus(err), os.IsNotExist(pidErr))
	fmt.Println("\nDone. The same binary runs under condor_master with CREDMON_OAUTH = /usr/sbin/credmon (see README.md).")
	return nil
}
