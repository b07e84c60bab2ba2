// Package credname is credd's rule for the names in the credential
// directory, shared by the daemon (credmon/credfile), the submit-side
// storer (producer/storer) and the credd emulator of the tests, so that the
// three cannot disagree on what credd accepts.
package credname

// OkayForOAuthFilename is credd's check on user, service and handle names
// (okay_for_oauth_filename): non-empty, only [A-Za-z0-9-+=_.]. Like credd
// it does not reject "." or ".."; callers that build paths refuse those
// themselves (credfile.OkayForFilename).
func OkayForOAuthFilename(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '-', b == '+', b == '=', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}
