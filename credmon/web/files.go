package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/atomicfile"
	"github.com/credmon/credmon/internal/tokenclient"
)

// fileMode is the mode of every file the app writes: the Python web app's
// 0400, which credd (mode & 077 == 0), the shadow and both credmons accept
// (spec §2.3).
const fileMode = 0o400

// userDirMode is credd's mode for a user directory it makes (§2.2); the
// setgid credential directory gives it group condor.
const userDirMode = 0o700

// pyJSON encodes a flat object of strings and booleans as Python's
// json.dump does: one line, ", " and ": " separators, keys in the given
// order, non-ASCII escaped. The Python credmon and credd read either
// spelling; this one keeps files byte-identical with the Python app's.
func pyJSON(kv ...any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		writePyString(&b, kv[i].(string))
		b.WriteString(": ")
		switch v := kv[i+1].(type) {
		case string:
			writePyString(&b, v)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writePyString(b *bytes.Buffer, s string) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false) // Python leaves <, > and & alone
	_ = e.Encode(s)        // a string always encodes
	for _, r := range strings.TrimSuffix(buf.String(), "\n") {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16(r) {
			fmt.Fprintf(b, `\u%04x`, u)
		}
	}
}

func utf16(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + (r>>10)&0x3ff), uint16(0xdc00 + r&0x3ff)}
}

// encodeTop is the web app's .top (§3.1): the refresh token (empty when
// the server gave none), and scopes and audience, each only when
// requested, with spaces removed, for credd's string-equal check.
func encodeTop(s *Service, refreshToken string) []byte {
	kv := []any{"refresh_token", refreshToken}
	if s.ScopesRaw != "" {
		kv = append(kv, "scopes", s.ScopesRaw)
	}
	if s.AudienceRaw != "" {
		kv = append(kv, "audience", s.AudienceRaw)
	}
	return pyJSON(kv...)
}

// encodeMeta is .meta (§3.3): what the credmon refreshes with.
func encodeMeta(s *Service, tokenURL string, useRefreshToken bool) []byte {
	return pyJSON("client_id", s.ClientID, "client_secret", s.ClientSecret,
		"token_url", tokenURL, "use_refresh_token", useRefreshToken)
}

// writeTokens writes the three files of service s into
// credDir/<LocalUser>/, each atomically with internal/atomicfile, in the
// order that leaves no reader a half-made credential: .meta (how to
// refresh), .use (the token), then .top, whose appearance is what credd's
// CHECK_CREDS and the credmon look for. A symlink as the user directory
// or at a file's name is refused, never followed.
func writeTokens(credDir string, s *Service, tokenURL string, res *tokenclient.Result) error {
	use, err := credfile.EncodeUse(res.Response, res.Received)
	if err != nil {
		return err
	}
	dir := filepath.Join(credDir, s.LocalUser)
	if err := ensureUserDir(dir); err != nil {
		return err
	}
	base := filepath.Join(dir, s.Name())
	files := []struct {
		suffix string
		data   []byte
	}{
		{".meta", encodeMeta(s, tokenURL, res.RefreshToken != "")},
		{".use", use},
		{".top", encodeTop(s, res.RefreshToken)},
	}
	for _, f := range files {
		if err := atomicfile.Replace(base+f.suffix, f.data, atomicfile.Options{Mode: fileMode}); err != nil {
			return fmt.Errorf("writing %s%s: %w", s.Name(), f.suffix, err)
		}
	}
	return nil
}

// ensureUserDir makes the user directory if missing (as credd and the
// Python app do) and refuses anything there but a real directory.
func ensureUserDir(dir string) error {
	err := os.Mkdir(dir, userDirMode)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("making user directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("user directory %s is not a directory (%s)", dir, atomicfile.Kind(fi.Mode()))
	}
	return nil
}

// done reports whether service s has a .top: credd lists only services
// without one, so one appearing means this login (or another) is done.
func done(credDir string, s *Service) bool {
	var st syscall.Stat_t
	return syscall.Lstat(filepath.Join(credDir, s.LocalUser, s.Name()+".top"), &st) == nil &&
		st.Mode&syscall.S_IFMT == syscall.S_IFREG
}
