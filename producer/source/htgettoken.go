package source

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ParseTTL reads htgettoken's <int>[smhd] durations (a bare number is
// seconds); Go's own forms (1h30m) are accepted too. Both commands that
// take htgettoken's options (credmon-token get, credmon-producer) read
// them with it.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	num, u := s, time.Second
	if d, ok := unit[s[len(s)-1]]; ok {
		num, u = s[:len(s)-1], d
	}
	if n, err := strconv.ParseUint(num, 10, 32); err == nil {
		return time.Duration(n) * u, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duration %q: want N followed by s, m, h or d", s)
	}
	return d, nil
}

// SplitList splits htgettoken's and condor_submit's comma- or
// space-separated scope and audience lists.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// IsTerminal reports whether f is a terminal, i.e. whether a human may be
// there to finish an OIDC login. A character device is not enough:
// /dev/null, what cron and a test's exec give as stdin, is one too.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
