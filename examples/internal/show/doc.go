// Package show holds the few helpers the example programs (make demo,
// make demo-oauth) share: step headings, indented output, polling for a
// file the daemon writes, and a process's exit status in words.
package show
