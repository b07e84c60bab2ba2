// Package tokenchars checks the characters of the tokens a token endpoint
// hands out, for the token client (internal/tokenclient). An access token
// goes into an "Authorization: Bearer" header and into a file a job reads
// line by line; a refresh token goes back into a form and into the .top /
// account file. A token with a control character, a newline or a non-ASCII
// byte would split the header or the file, so an answer carrying one is the
// issuer handing out garbage, and the client refuses it as it refuses an
// answer without a token.
package tokenchars
