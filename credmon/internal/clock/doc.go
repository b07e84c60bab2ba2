// Package clock is the daemon's time source: the real one, and a fake that
// tests move by hand. The interface is the part of
// github.com/andres-erbsen/clock the daemon uses (SPIRE's rotator injects
// that clock the same way), written here to need no dependency.
package clock
