// Package safewrite replaces a file the way every credmon-token output must
// be replaced: a temporary file in the same directory (created exclusively,
// so it never opens an existing file or follows a link), owner and mode set
// before the content is written, fsync, rename over the name, directory
// fsync. A reader sees the old file or the new one, never a partial one; a
// symbolic link at the name is replaced, never written through.
//
// It serves the oidc-agent account files (producer/oidcagent) and the token
// files of the renewal service (producer/renewer), which differ only in
// what they keep of the file they replace.
package safewrite
