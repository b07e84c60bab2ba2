package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// EnvRequireBrowser, set to "1", makes a missing browser a failure.
const EnvRequireBrowser = "CREDMON_REQUIRE_BROWSER"

// EnvChromium overrides the browser binary (default /usr/bin/chromium).
const EnvChromium = "CREDMON_CHROMIUM"

// Step is one action; set exactly one of its fields.
type Step struct {
	Goto       string `json:"goto,omitempty"`
	Click      string `json:"click,omitempty"` // a Playwright selector
	Fill       string `json:"fill,omitempty"`  // a selector, with Value
	Value      string `json:"value,omitempty"`
	Screenshot string `json:"screenshot,omitempty"` // a PNG path
	Cookies    bool   `json:"cookies,omitempty"`
	NewContext bool   `json:"newContext,omitempty"` // forget cookies
}

// Cookie is a browser cookie as Playwright reports it.
type Cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"`
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite string  `json:"sameSite"`
}

// Page is the result of a step: the page after it.
type Page struct {
	URL     string   `json:"url"`
	Status  int      `json:"status"` // of the last main-frame navigation
	Title   string   `json:"title"`
	Text    string   `json:"text"` // innerText of <main>, else <body>
	Cookies []Cookie `json:"cookies"`
	Error   string   `json:"error"`
}

// Browser runs steps in a headless Chromium.
type Browser struct {
	node, chromium, dir string
}

// New finds node, Chromium and the driver, skipping the test (failing it
// under CREDMON_REQUIRE_BROWSER=1) when one is missing.
func New(t testing.TB) *Browser {
	t.Helper()
	b, err := find()
	if err != nil {
		if os.Getenv(EnvRequireBrowser) == "1" {
			t.Fatalf("browser tests: %v (fatal because %s=1)", err, EnvRequireBrowser)
		}
		t.Skipf("browser tests: %v (set %s=1 to fail instead of skipping)", err, EnvRequireBrowser)
	}
	return b
}

func find() (*Browser, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found: %w", err)
	}
	chromium := os.Getenv(EnvChromium)
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		return nil, fmt.Errorf("chromium not found (apt-get install chromium): %w", err)
	}
	_, src, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(src), "driver")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		return nil, fmt.Errorf("playwright-core not installed (make testdeps, or npm ci in %s): %w", dir, err)
	}
	return &Browser{node: node, chromium: chromium, dir: dir}, nil
}

// Run runs steps in a new browser and returns one Page per step run. A
// step that fails (a selector that never appears, a navigation error)
// fails the test, with the pages so far in the message.
func (b *Browser) Run(t testing.TB, steps ...Step) []Page {
	t.Helper()
	pages, err := b.run(steps)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return pages
}

func (b *Browser) run(steps []Step) ([]Page, error) {
	in, err := json.Marshal(steps)
	if err != nil {
		return nil, err
	}
	// A bound for a wedged browser only: each step has its own 30 s
	// timeout inside the driver.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(steps)+2)*45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, filepath.Join(b.dir, "drive.mjs"))
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "CHROMIUM="+b.chromium)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var pages []Page
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var p Page
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return pages, fmt.Errorf("driver output %q: %w", sc.Text(), err)
		}
		pages = append(pages, p)
	}
	if n := len(pages); n > 0 && pages[n-1].Error != "" {
		return pages, fmt.Errorf("step %d (%+v) failed at %s: %s", n, steps[n-1], pages[n-1].URL, pages[n-1].Error)
	}
	if runErr != nil {
		return pages, fmt.Errorf("driver: %v; stderr:\n%s", runErr, stderr.String())
	}
	return pages, nil
}
