package oidcprovider

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
)

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// RunAtTerminal runs the shell command line cmdline under script(1), so that
// the program sees a terminal (the device-flow logins are offered only
// there), writes input to it, and calls onLine, on the caller's goroutine,
// with each line the program prints (ANSI escapes and carriage returns
// removed) and everything printed so far, which is where a test approves
// the login it shows. The terminal's input stays open until the program
// exits, as a human's would. It returns all the output and the program's
// error. Callers check for script(1) first (exec.LookPath) and skip
// without it.
func RunAtTerminal(ctx context.Context, cmdline string, env []string, input string, onLine func(line, all string)) (string, error) {
	cmd := exec.CommandContext(ctx, "script", "-qefc", cmdline, "/dev/null")
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		return "", err
	}
	if input != "" {
		io.WriteString(stdin, input)
	}
	waited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); waited <- err }()
	var all strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimRight(ansiEscape.ReplaceAllString(sc.Text(), ""), "\r")
		all.WriteString(line + "\n")
		if onLine != nil {
			onLine(line, all.String())
		}
	}
	io.Copy(io.Discard, pr) // a line longer than the scanner's buffer: keep the program unblocked
	return all.String(), <-waited
}
