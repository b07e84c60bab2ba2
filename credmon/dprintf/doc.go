// Package dprintf writes a Go daemon's hclog output as an HTCondor daemon
// log, so that credmon's log file looks and behaves like the one the Python
// condor_credmon_oauth writes through htcondor.log (HTCondor's dprintf).
//
// # Why the format matters
//
// HTCondor's own regression tests read daemon logs line by line with the
// regular expression in src/condor_tests/ornithology/daemons.py:
//
//	^(?P<timestamp>\d{2}/\d{2}/\d{2}\s\d{2}:\d{2}:\d{2})\s(?P<tags>(?:\([^()]+\)\s+)*)(?P<msg>.*)$
//
// and test_htcondor_credential.py waits for a credmon line containing
// "Successfully renewed". Administrators grep the same files. So every line
// this package writes is
//
//	MM/DD/YY HH:MM:SS <message>
//
// in the time zone of the injected clock (time.Now gives local time, as
// dprintf's localtime(3); the master starts daemons with TZ=:/etc/localtime).
// That is exactly what dprintf writes when no header flags are configured:
// _format_global_header in src/condor_utils/dprintf.cpp adds "(pid:N) " only
// for D_PID, "(D_ALWAYS) " only for D_CAT, and ALL_DEBUG and <SUBSYS>_DEBUG
// are empty by default (src/condor_utils/param_info.in), so a default daemon
// log carries no tags. The time format is DEBUG_TIME_FORMAT, default
// "%m/%d/%y %H:%M:%S", a strftime(3) format.
//
// # Rendering an hclog entry
//
//	<time> [WARNING: |ERROR: ][NAME: ]<message>[ key=value]...
//
// where:
//
//   - Info, Debug and Trace lines carry no level text, like the Python
//     credmon's HTCondorLogger (info and debug go to D_ALWAYS). Warnings get
//     "WARNING: " as in HTCondorLogger.warning. Errors get "ERROR: ": the
//     Python credmon logs them as D_ERROR, which a default header does not
//     show, so without the prefix an error line would be indistinguishable
//     from an info line.
//   - A sub-logger made with Named renders the upper-cased last component of
//     its name as a prefix, like the Python per-credmon prefixes "OAUTH: ",
//     "LOCAL: ": Logger().Named("oauth").Info("Successfully refreshed mytok
//     tokens for user alice") writes
//     "11/23/26 11:05:01 OAUTH: Successfully refreshed mytok tokens for user alice".
//     The root logger (named Options.Name) has no prefix.
//   - Key/value pairs (from With and from the call) follow as " key=value";
//     a value that is empty or contains a space, a quote, '=' or a
//     non-printable character is Go-quoted.
//   - Every call writes exactly one line: newlines and other control
//     characters in messages, keys and values are escaped (\n, \r, \x00), so
//     a user name or an IdP error text can neither split a line nor forge one
//     such as "Successfully renewed ...".
//
// Info, Warn and Error are always written; Debug and Trace only when
// Options.Debug (D_FULLDEBUG) is set or SetLevel lowers the level.
//
// # Files, rotation and reopening
//
// The file is opened O_APPEND|O_CREATE like open_debug_file in dprintf.cpp,
// but with mode 0600 (dprintf: 0644) and O_NOFOLLOW, and an existing log the
// daemon owns loses any group/other bits: it runs as root, and the log holds
// user names and issuer text. Each line is assembled in memory and written with a single
// write(2), and lines from concurrent goroutines are serialised by a mutex,
// so lines are never interleaved or split.
//
// Rotation follows debug_lock_it and preserve_log_file in dprintf.cpp and
// src/condor_utils/log_rotate.cpp: before a line is written, if the file is
// already at least MaxBytes long, dprintf writes "MaxLog = N bytes, length = L"
// and `Saving log file to "X.old"` to the old file, renames X to X.old
// (MaxNum <= 1) or to X.YYYYMMDDTHHMMSS (MaxNum > 1, local time of the
// rotation), opens a new X and writes "Now in new log file X". With
// MaxNum > 1, cleanUpOldLogFiles then keeps MaxNum rotated files by renaming
// the oldest timestamped file over X.old until at most MaxNum remain, so the
// oldest survivor is always X.old. (Two rotations within one second reuse
// the same timestamped name and the earlier file is replaced, as in
// HTCondor.) A file therefore exceeds MaxBytes by at most one line plus
// those two notices. One deliberate difference: with
// MaxNum <= 1 we skip that cleanup, because HTCondor's would move leftover
// timestamped files (from an earlier MAX_NUM setting) over the X.old just
// written, losing the newest rotated log.
//
// HTCondor keeps the log open between writes but does not notice if someone
// else renames it. This package stats the path before each write (one
// syscall, as dprintf's lseek per write) and reopens it if it was removed or
// replaced, so logrotate-style "rename and let the daemon recreate" works;
// Reopen does the same on demand (e.g. on SIGHUP).
//
// # Failure modes
//
// Open fails if the file cannot be opened for appending; a daemon turns that
// into exit status ExitLogError (44, DPRINTF_ERROR in
// src/condor_includes/exit.h), which condor_master reports as a logging
// failure. Later failures (write, rotate, reopen) cannot be returned through
// hclog: the line is written to stderr instead, the old file descriptor keeps
// being used where it is still valid, the failure is retried on the next
// line, and Options.OnError is called once per run of failures. HTCondor's
// dprintf exits 44 on such errors; a daemon wanting that calls
// os.Exit(ExitLogError) from OnError.
package dprintf
