package renewer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/credmon/credmon/internal/oidcprovider"
	"github.com/credmon/credmon/internal/tokenclient"
	"github.com/credmon/credmon/producer/oidcagent"
	"github.com/credmon/credmon/producer/source"
)

// A renewal of an account's tokens and a `credmon-token get` of the same
// account (source.Account) at the same time, against an issuer that
// rotates refresh tokens and answers refreshes after 1 s: without the
// account lock both would refresh with the same refresh token, and the
// issuer would revoke the grant (reuse detection). The get starts after
// the renewer has saved a rotation in the middle of its tokens, so it
// finds the account file replaced: the renewer must have moved its lock to
// the new file (holdAccount) for the get to wait.
func TestE2EAccountLockWithGet(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{RefreshDelay: time.Second})
	pwf := e.account("a", "compute.read")
	r := e.renewer(fmt.Sprintf("[account a]\npassword_file = %s\n"+
		"[token t1]\naccount = a\ntoken_path = %[2]s/t1.token\n"+
		"[token t2]\naccount = a\ntoken_path = %[2]s/t2.token\n"+
		"[token t3]\naccount = a\ntoken_path = %[2]s/t3.token\n", pwf, e.dir))
	get := &source.Account{Dir: e.adir, Name: "a", Password: []byte("pw-a"),
		Client: &tokenclient.Client{HTTPClient: e.hc, AllowInsecure: true}}
	acctFile := filepath.Join(e.adir, "a")
	before := statSig(acctFile)

	var wg sync.WaitGroup
	var rep *Report
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); rep, runErr = r.RunOnce(context.Background()) }()
	// The first save comes after t2 (defaultCommitInterval after t1's
	// rotation); t3 is still to be refreshed.
	for deadline := time.Now().Add(60 * time.Second); statSig(acctFile).ino == before.ino; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the renewer never saved the account")
		}
	}
	tok, getErr := get.Token(context.Background(), source.Request{})
	wg.Wait()
	if runErr != nil || rep.exitCode() != exitOK {
		t.Errorf("RunOnce alongside get: %v %+v", runErr, rep)
	}
	if getErr != nil {
		t.Errorf("get alongside RunOnce: %v", getErr)
	} else {
		e.idp.VerifyAccessToken(t, tok.AccessToken)
	}
	// The grant survived: a third refresh with the saved token works.
	if _, err := get.Token(context.Background(), source.Request{}); err != nil {
		t.Errorf("refresh after the concurrent ones: %v (the grant was revoked)", err)
	}
}

// A client registered for client_secret_post (what credmon-token setup
// registered) at an issuer that enforces the registered method: HTTP
// Basic is refused, and the renewer falls back to form parameters, as get
// does (tokenclient's AuthStyleAutoDetect), once per account.
func TestE2EPostClientStrictAuth(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{StrictClientAuth: true})
	g := e.idp.NewRefreshToken(t, oidcprovider.GrantRequest{ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret, Scope: "compute.read"})
	a := oidcagent.NewAccount("post")
	a.SetIssuerURL(e.idp.Issuer)
	a.SetClientID(oidcprovider.ClientIDPost)
	a.SetClientSecret(oidcprovider.ClientSecret)
	a.SetRefreshToken(g.RefreshToken)
	if err := oidcagent.Save(e.adir, "post", a, []byte("pw-post")); err != nil {
		t.Fatal(err)
	}
	pwf := filepath.Join(e.dir, "post.pw")
	if err := os.WriteFile(pwf, []byte("pw-post\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The issuer does refuse Basic for this client (nothing consumed).
	basic := &tokenclient.Client{TokenURL: e.idp.TokenURL, ClientID: oidcprovider.ClientIDPost, ClientSecret: oidcprovider.ClientSecret,
		AuthStyle: oauth2.AuthStyleInHeader, AllowInsecure: true}
	if _, err := basic.Refresh(context.Background(), g.RefreshToken, nil, nil, nil); !tokenclient.IsPermanent(err) {
		t.Fatalf("Basic refresh of a client_secret_post client = %v; want invalid_client", err)
	}

	r := e.renewer(fmt.Sprintf("[account post]\npassword_file = %s\n"+
		"[token p1]\naccount = post\ntoken_path = %[2]s/p1.token\n"+
		"[token p2]\naccount = post\ntoken_path = %[2]s/p2.token\n", pwf, e.dir))
	e.proxy.ResetCounts()
	rep, err := r.RunOnce(context.Background())
	if err != nil || rep.exitCode() != exitOK || rep.count(Renewed) != 2 {
		t.Fatalf("RunOnce with a client_secret_post client = %v %+v", err, rep.Tokens)
	}
	e.readToken("p1")
	e.readToken("p2")
	// Discovery, then Basic (refused) and post for p1, post alone for p2.
	if got := e.proxy.Total(); got != 4 {
		t.Errorf("requests = %d (%v); want 4: the refused method is not tried again for the account's next token", got, e.proxy.Counts())
	}
}

// OnReport gets every RunOnce's report and every Watch round's.
func TestE2EOnReport(t *testing.T) {
	e := newEnv(t, oidcprovider.ProviderOptions{})
	pwf := e.account("a", "compute.read")
	r := e.renewer(fmt.Sprintf("[account a]\npassword_file = %s\n[token t]\naccount = a\ntoken_path = %s/t.token\n", pwf, e.dir))
	reports := make(chan *Report, 10)
	r.OnReport = func(rep *Report) { reports <- rep }
	rep, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := <-reports; got != rep {
		t.Errorf("OnReport got %p; want RunOnce's report %p", got, rep)
	}

	// Watch: the token file is fresh, so the first round is when it is
	// due; remove it to make the token due at once.
	os.Remove(e.tokenPath("t"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()
	select {
	case got := <-reports:
		if len(got.Tokens) != 1 || got.Tokens[0].Token != "t" || got.Tokens[0].Outcome != Renewed {
			t.Errorf("Watch round report = %+v; want t renewed", got.Tokens)
		}
	case <-time.After(60 * time.Second):
		t.Error("Watch made no report")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
}
