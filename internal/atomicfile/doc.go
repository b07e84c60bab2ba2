// Package atomicfile reads and replaces files inside a directory without
// ever following a symbolic link and without ever exposing a partial file.
//
// Every operation is relative to a Dir, an open directory descriptor
// (O_DIRECTORY|O_NOFOLLOW). Paths are single names, never "a/b", so an
// attacker who can create entries in a user directory cannot redirect a
// write through a symlink, and a user directory that is swept (removed) while
// we work on it takes our temp file with it instead of leaking it.
//
// A replacement is: create a dot-prefixed temp file with O_EXCL|O_NOFOLLOW and
// the final mode, write, fsync, rename over the target, fsync the directory.
// A reader therefore sees the old file or the new one, never a mix, and the
// new content is on disk before the name points at it (caddy#6481: a
// truncating write plus power loss leaves an empty certificate). Temp names
// start with ".credmon-" and end with ".tmp" so that no HTCondor component
// mistakes them for a credential (.top/.use/.meta/.mark or a 64-hex key file).
//
// Replace is the same replacement for a path, for programs that write one
// file rather than work in a directory: credmon-token's token, account and
// state files and the local issuer's keys. It is the project's only file
// writer; its Options make the choices that differ between callers
// explicit (what to do with a symlink at the name, mode, owner, whether an
// existing file may be replaced at all, directory fsync), with the safe
// choice as the zero value.
//
// OpenRegular and ReadRegular are the project's one way to open a secret
// file by path (an account file, a client secret, a state file): a regular
// file only (a FIFO or device is refused without blocking), with its fstat
// for owner and mode checks, and a symlink refused (O_NOFOLLOW) unless
// OpenOptions.FollowSymlink says the caller means to follow an admin's link
// and judge its target.
package atomicfile
