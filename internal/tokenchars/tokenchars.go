package tokenchars

// AccessToken reports whether s is 1*(0x21-0x7E): visible ASCII, no space.
// That is wider than RFC 6750's b64token (some issuers' opaque tokens use
// other visible characters) and exactly what an HTTP header field value
// and a whitespace-separated file can carry.
func AccessToken(s string) bool { return allIn(s, 0x21) }

// RefreshToken reports whether s is 1*VSCHAR (0x20-0x7E), RFC 6749
// Appendix A.17.
func RefreshToken(s string) bool { return allIn(s, 0x20) }

func allIn(s string, lo byte) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > 0x7e {
			return false
		}
	}
	return true
}
