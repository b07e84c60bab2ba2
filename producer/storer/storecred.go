package storer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// CredStore is credd as the storer sees it: condor_store_cred's
// query-oauth and add-oauth.
type CredStore interface {
	// Query is query-oauth for name with the request's scopes and
	// audience ("" for none).
	Query(ctx context.Context, name, scopes, audience string) (QueryResult, []byte, error)
	// Add is add-oauth for name, the blob on condor_store_cred's stdin.
	Add(ctx context.Context, name, scopes, audience string, blob []byte) ([]byte, error)
	// DeleteCommand is the command line that removes name, for the user
	// to run after a mismatch.
	DeleteCommand(name string) string
}

// StoreCred runs condor_store_cred.
type StoreCred struct {
	// Path is the condor_store_cred program.
	Path string
	// User is CONDOR_VAULT_STORER_USER ("" for the caller).
	User string
	// Opts are SEC_CREDENTIAL_STORECRED_OPTS' words.
	Opts []string
	// Env is the commands' environment (nil: the storer's).
	Env []string
}

var _ CredStore = (*StoreCred)(nil)

// Args returns condor_store_cred's arguments for verb (query-oauth,
// add-oauth, delete-oauth) and name, in condor_vault_storer's order:
// verb [-u USER] -s NAME [SEC_CREDENTIAL_STORECRED_OPTS] [-S scopes]
// [-A audience], and "-i -" for add-oauth, so the credential goes on stdin
// and never into an argument list other users can read.
func (s *StoreCred) Args(verb, name, scopes, audience string) []string {
	a := []string{verb}
	if s.User != "" {
		a = append(a, "-u", s.User)
	}
	a = append(a, "-s", name)
	a = append(a, s.Opts...)
	if scopes != "" {
		a = append(a, "-S", scopes)
	}
	if audience != "" {
		a = append(a, "-A", audience)
	}
	if verb == "add-oauth" {
		a = append(a, "-i", "-")
	}
	return a
}

// PlainArgs are Args for add-oauth with -P: a plain access token, which
// credd writes as <name>.use and no credmon refreshes. The token goes on
// stdin too.
func (s *StoreCred) PlainArgs(name string) []string {
	a := s.Args("add-oauth", name, "", "")
	return append(a[:len(a)-2], "-P", "-i", "-")
}

// Query runs query-oauth.
func (s *StoreCred) Query(ctx context.Context, name, scopes, audience string) (QueryResult, []byte, error) {
	out, code, err := s.run(ctx, s.Args("query-oauth", name, scopes, audience), nil)
	if err != nil {
		return Missing, out, err
	}
	q, err := QueryResultOf(code)
	return q, out, err
}

// Add runs add-oauth with blob on stdin.
func (s *StoreCred) Add(ctx context.Context, name, scopes, audience string, blob []byte) ([]byte, error) {
	out, code, err := s.run(ctx, s.Args("add-oauth", name, scopes, audience), blob)
	if err != nil {
		return out, err
	}
	if code != 0 {
		return out, fmt.Errorf("condor_store_cred add-oauth -s %s exited with status %d", name, code)
	}
	return out, nil
}

// AddPlain runs add-oauth -P with the access token on stdin: credd stores
// it as <name>.use, which jobs get as it is and no credmon refreshes.
func (s *StoreCred) AddPlain(ctx context.Context, name string, token []byte) ([]byte, error) {
	out, code, err := s.run(ctx, s.PlainArgs(name), token)
	if err != nil {
		return out, err
	}
	if code != 0 {
		return out, fmt.Errorf("condor_store_cred add-oauth -P -s %s exited with status %d", name, code)
	}
	return out, nil
}

// DeleteCommand is `condor_store_cred delete-oauth [-u USER] -s NAME
// [SEC_CREDENTIAL_STORECRED_OPTS]`, quoted for a POSIX shell. Unlike
// condor_vault_storer's it keeps SEC_CREDENTIAL_STORECRED_OPTS, without
// which the command would ask another credd.
func (s *StoreCred) DeleteCommand(name string) string {
	words := append([]string{"condor_store_cred"}, s.Args("delete-oauth", name, "", "")...)
	for i, w := range words {
		words[i] = ShellQuote(w)
	}
	return strings.Join(words, " ")
}

// run runs condor_store_cred; the exit status of a program that ran is
// the code, an error is for one that could not be run or was killed.
func (s *StoreCred) run(ctx context.Context, args []string, stdin []byte) ([]byte, int, error) {
	cmd := exec.CommandContext(ctx, s.Path, args...)
	cmd.Env = s.Env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.Bytes(), 0, nil
	case errors.As(err, &ee) && ee.Exited():
		return out.Bytes(), ee.ExitCode(), nil
	}
	return out.Bytes(), -1, fmt.Errorf("running %s %s: %w", s.Path, args[0], err)
}

// ShellQuote quotes s for a POSIX shell when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_=+.,/:@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
