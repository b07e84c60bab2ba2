package statefile

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is `credmon status --json`: the state as read, what Assess says
// of the daemon, and the credentials (of one user with --user). Schema
// version 1, documented in the README; fields are only ever added.
type Report struct {
	StateFile string   `json:"state_file"`
	Liveness  Liveness `json:"liveness"`
	Message   string   `json:"message"`
	// NeedsHuman counts the credentials shown that need a human.
	NeedsHuman int `json:"needs_human"`
	*State
}

// NewReport assesses s at now and keeps the credentials of user ("" for
// all).
func NewReport(path string, s *State, user string, now time.Time, alive func(int) bool) *Report {
	r := &Report{StateFile: path}
	r.Liveness, r.Message = Assess(s, now, alive)
	cp := *s
	cp.Credentials = s.ForUser(user)
	if cp.Credentials == nil {
		cp.Credentials = []Credential{}
	}
	r.State = &cp
	for _, c := range cp.Credentials {
		if c.NeedsHuman != "" {
			r.NeedsHuman++
		}
	}
	return r
}

// WriteText prints r for a terminal: the daemon's state, one line per
// credential, then what needs a human. Times are relative to now.
func (r *Report) WriteText(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "%s: %s — %s\n", r.Daemon, r.Liveness, r.Message)
	if r.Liveness != Running {
		fmt.Fprintln(w, "(the credentials below are as they were then)")
	}
	if len(r.Credentials) == 0 {
		fmt.Fprintln(w, "no credentials")
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tTOKEN\tTYPE\t.USE EXPIRES\tLAST REFRESH\tNEXT\tSTATE")
	for _, c := range r.Credentials {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.User, c.Token, c.Type, expires(c, now),
			ago(c.LastRefresh, now), in(c.NextRefresh, now), state(c, now))
	}
	tw.Flush()
	if r.NeedsHuman == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d credential(s) need a human:\n", r.NeedsHuman)
	for _, c := range r.Credentials {
		if c.NeedsHuman != "" {
			fmt.Fprintf(w, "  %s/%s: %s\n", c.User, c.Token, c.NeedsHuman)
		}
	}
}

func expires(c Credential, now time.Time) string {
	switch {
	case !c.Present:
		return "no .use"
	case c.Expiry.IsZero():
		return "unknown"
	case !now.Before(c.Expiry):
		return "EXPIRED " + short(now.Sub(c.Expiry)) + " ago"
	}
	return "in " + short(c.Expiry.Sub(now))
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return short(now.Sub(t)) + " ago"
}

func in(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "-"
	case !now.Before(t):
		return "due"
	}
	return "in " + short(t.Sub(now))
}

func state(c Credential, now time.Time) string {
	switch {
	case c.Ignored != "":
		return "ignored: " + c.Ignored
	case c.NeedsHuman != "":
		return "NEEDS A HUMAN"
	case c.Failures > 0:
		s := fmt.Sprintf("failing (%d)", c.Failures)
		if c.RetryAt.After(now) {
			s += ", retry in " + short(c.RetryAt.Sub(now))
		}
		return s + ": " + oneLine(c.Error)
	}
	return "ok"
}

// short prints a duration to the second, without zero units: 1h2m, 40s.
func short(d time.Duration) string {
	d = d.Round(time.Second)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
