package condorcfg

import (
	"errors"
	"fmt"
)

// SyntaxError reports configuration that HTCondor would reject, or that this
// package cannot interpret exactly as HTCondor would, at the place it was
// found. Load wraps one whenever the problem can be pinned to a source.
type SyntaxError struct {
	File string // config file, or "<Environment>", "<Default>", "<Detected>"
	Line int    // 1-based line of the statement; 0 when there is no line
	Msg  string
	Err  error // underlying cause, if any (for errors.Is / errors.As)
}

// Error formats the error as "file:line: message", which is what editors and
// humans expect, rather than HTCondor's "Error "file", Line N" wording.
func (e *SyntaxError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the underlying cause.
func (e *SyntaxError) Unwrap() error { return e.Err }

// ErrNoConfig is returned (wrapped) when neither CONDOR_CONFIG nor any of the
// standard locations names a readable configuration file. HTCondor daemons
// exit in this situation; set CONDOR_CONFIG=ONLY_ENV to run without a file.
var ErrNoConfig = errors.New("condorcfg: no HTCondor configuration source found")

// ErrUnsupported marks configuration that is valid HTCondor but that the
// native parser deliberately refuses instead of guessing (for example
// "include command", ClassAd-evaluating macro functions, or a metaknob that is
// not in the built-in table). Installing condor_config_val avoids it.
var ErrUnsupported = errors.New("condorcfg: not supported by the native parser")

// errAt builds a SyntaxError for src.
func errAt(src source, err error, format string, args ...any) *SyntaxError {
	return &SyntaxError{File: src.file, Line: src.line, Msg: fmt.Sprintf(format, args...), Err: err}
}
