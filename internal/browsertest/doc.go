// Package browsertest drives a real browser for tests: Debian's headless
// Chromium (/usr/bin/chromium), scripted by playwright-core from npm
// (driver/, its own package.json and package-lock.json; node_modules is
// installed by `make testdeps` and not tracked). A test gives a list of
// Steps (go to a URL, click, fill a field, take a screenshot, read the
// cookies) and gets the page after each: URL, HTTP status, title and the
// text of <main>. The browser is a new process per Run, so runs are
// independent; cookies persist across the steps of one Run.
//
// When node, Chromium or the driver's packages are missing the test is
// skipped, unless CREDMON_REQUIRE_BROWSER=1 (CI), when it fails. It is a
// test peer: no shipped binary links it (internal/archtest).
package browsertest
