// Package jsonobj is the project's JSON object: keys kept in their original
// order and values kept as the exact bytes received, so a file rewritten
// from it (a .top after a refresh token rotated) changes nothing it did not
// mean to. The daemon's credential files (credmon/credfile) and the token
// client (internal/tokenclient) share it; it lives at the module root so
// that neither layer imports the other for it.
package jsonobj
