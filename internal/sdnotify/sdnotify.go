package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends state changes to the service manager. The zero of
// *Notifier (nil) sends nothing.
type Notifier struct {
	conn *net.UnixConn
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET, or nil when it is unset
// (not started by systemd, or not Type=notify). It then unsets
// NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID so that child processes do
// not talk to systemd on the service's behalf (sd_notify's
// unset_environment); read the watchdog interval with WatchdogInterval
// before.
func FromEnv() (*Notifier, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, nil
	}
	return Dial(name)
}

// Dial connects to the notification socket name: a file system path, or
// "@name" for an abstract socket (net's convention, which is also
// systemd's).
func Dial(name string) (*Notifier, error) {
	if !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, "@") {
		return nil, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q is neither a path nor an abstract socket name", name)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	return &Notifier{conn: conn}, nil
}

// Send sends the assignments (e.g. "READY=1", "STATUS=…") as one datagram.
func (n *Notifier) Send(assignments ...string) error {
	if n == nil {
		return nil
	}
	if len(assignments) == 0 {
		return errors.New("sdnotify: nothing to send")
	}
	_, err := n.conn.Write([]byte(strings.Join(assignments, "\n") + "\n"))
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Ready says the service is up (after start-up, or after a reload);
// status, when not empty, is shown by systemctl status.
func (n *Notifier) Ready(status string) error {
	if status == "" {
		return n.Send("READY=1")
	}
	return n.Send("READY=1", "STATUS="+oneLine(status))
}

// Reloading says a configuration reload has begun. systemd requires the
// time of the request on CLOCK_MONOTONIC with it, to tell this reload's
// READY=1 from an earlier one's.
func (n *Notifier) Reloading() error {
	if n == nil {
		return nil
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("sdnotify: reading CLOCK_MONOTONIC: %w", err)
	}
	usec := uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3
	return n.Send("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatUint(usec, 10))
}

// Stopping says the service has begun to stop.
func (n *Notifier) Stopping() error { return n.Send("STOPPING=1") }

// Watchdog keeps systemd's watchdog (WatchdogSec=) from firing.
func (n *Notifier) Watchdog() error { return n.Send("WATCHDOG=1") }

// Close closes the socket.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	return n.conn.Close()
}

// WatchdogInterval returns how often to send WATCHDOG=1: half of
// $WATCHDOG_USEC, when it is set and $WATCHDOG_PID, if set, is this
// process. ok is false when there is no watchdog. It unsets both
// variables (see FromEnv).
func WatchdogInterval() (every time.Duration, ok bool) {
	usec, pid := os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID")
	os.Unsetenv("WATCHDOG_USEC")
	os.Unsetenv("WATCHDOG_PID")
	return watchdogInterval(usec, pid, os.Getpid())
}

// watchdogInterval is WatchdogInterval's rule, on the variables' values.
func watchdogInterval(usec, pid string, self int) (time.Duration, bool) {
	if usec == "" {
		return 0, false
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0, false // meant for another process (the unit's main one)
		}
	}
	u, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || u == 0 {
		return 0, false
	}
	return time.Duration(u) * time.Microsecond / 2, true
}

// oneLine keeps a status to one assignment: a newline would start another.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
