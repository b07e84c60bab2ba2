package show

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Step prints a step heading.
func Step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

// Indent indents every line of s by four spaces (a command's output under
// its step).
func Indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "    " + strings.Join(lines, "\n    ") + "\n"
}

// WaitFor polls cond every interval until it holds or d has passed.
func WaitFor(d, every time.Duration, cond func() bool) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(every) {
		if cond() {
			return nil
		}
	}
	return fmt.Errorf("timed out after %v", d)
}

// ExitStatus is what cmd.Wait's err says of the exit: "0", the exit code,
// or the error.
func ExitStatus(err error) string {
	if err == nil {
		return "0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strconv.Itoa(ee.ExitCode())
	}
	return err.Error()
}
