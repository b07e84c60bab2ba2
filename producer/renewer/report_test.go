package renewer

import (
	"errors"
	"io/fs"
)

// The tests summarise a run as an exit status, in osg-token-renewer's
// terms (1 for any failure) refined: 2 reauth, 75 locked (EX_TEMPFAIL),
// 78 configuration (EX_CONFIG). The CLI has its own statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitReauth = 2
	exitLocked = 75
	exitConfig = 78
)

// exitCode maps the report to an exit status: exitOK when every token was
// renewed or skipped, exitReauth when some token needs re-authorisation,
// else exitFailed when some token failed.
func (rep *Report) exitCode() int {
	if rep == nil {
		return exitFailed
	}
	code := exitOK
	for _, t := range rep.Tokens {
		if t.Outcome != Failed {
			continue
		}
		if t.Class == ClassReauth {
			return exitReauth
		}
		code = exitFailed
	}
	return code
}

// count returns how many tokens had outcome o.
func (rep *Report) count(o Outcome) int {
	n := 0
	for _, t := range rep.Tokens {
		if t.Outcome == o {
			n++
		}
	}
	return n
}

// exitCodeOf maps an error from RunOnce or LoadConfig to an exit status
// (for a nil error use exitCode).
func exitCodeOf(err error) int {
	var ce *configError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, ErrAlreadyRunning):
		return exitLocked
	case errors.As(err, &ce), errors.Is(err, fs.ErrNotExist):
		return exitConfig
	}
	return exitFailed
}
