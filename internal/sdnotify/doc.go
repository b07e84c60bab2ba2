// Package sdnotify tells systemd how a Type=notify service is doing, as
// sd_notify(3) does: one datagram of newline-separated VAR=value
// assignments to the unix datagram socket named by $NOTIFY_SOCKET (a path,
// or an abstract socket when it starts with '@').
//
// It is a few lines over a unixgram socket rather than a dependency
// (coreos/go-systemd), because the protocol is this small and stable:
// READY=1 once the service does its job, RELOADING=1 with MONOTONIC_USEC
// when it starts re-reading its configuration (then READY=1 again),
// STOPPING=1 when it begins to stop, and WATCHDOG=1 at least every
// $WATCHDOG_USEC (systemd-watchdog: half of it, as sd_watchdog_enabled(3)
// advises).
//
// A process started without $NOTIFY_SOCKET gets a nil *Notifier, whose
// methods do nothing: the same code runs under systemd and by hand.
package sdnotify
