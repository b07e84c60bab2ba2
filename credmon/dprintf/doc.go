// Package dprintf writes a Go daemon's hclog output as an HTCondor daemon
// log, so that credmon's log file looks and behaves like the one the Python
// condor_credmon_oauth writes through htcondor.log (HTCondor's dprintf):
// HTCondor's regression tests and administrators read it line by line.
//
// Open returns a *Log; Logger gives the hclog.Logger to log through, and
// Reopen (on SIGHUP) and Close manage the file. Every line is
//
//	MM/DD/YY HH:MM:SS [WARNING: |ERROR: ][NAME: ]<message>[ key=value]...
//
// in the time format of DEBUG_TIME_FORMAT (SetTimeFormat), where NAME is the
// upper-cased last component of a Named sub-logger. Info, Warn and Error
// are always written; Debug and Trace only with Options.Debug or after the Logger's SetLevel.
//
// Guarantees a caller relies on:
//
//   - Every call writes exactly one whole line with one write(2): control
//     characters in messages, keys and values are escaped, so a user name or
//     an issuer's error text can neither split a line nor forge one.
//   - The file is 0600, opened O_APPEND|O_NOFOLLOW. It is rotated as dprintf
//     rotates it (Options.MaxBytes, Options.MaxNum), and reopened when
//     someone else renamed or removed it.
//   - Open fails if the file cannot be opened; a daemon exits ExitLogError
//     (44, HTCondor's DPRINTF_ERROR). Later failures cannot be returned
//     through hclog: the line goes to stderr, the failure is retried on the
//     next line, and Options.OnError is called once per run of failures.
//
// Why the format matters, how an entry is rendered, the rotation rules and
// where they differ from dprintf's are in docs/reimplementations.md#dprintf.
package dprintf
