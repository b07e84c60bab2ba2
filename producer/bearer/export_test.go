package bearer

// FindIn and WritePathIn are Find and WritePath with the step-4 directory
// (normally /tmp) chosen by the test.
var (
	FindIn      = find
	WritePathIn = writePath
	ScopeCovers = scopeCovers
)

// ReadTokenFileAs is ReadTokenFile as if run by euid.
func ReadTokenFileAs(path string, euid int) (string, error) {
	return readTokenFile(path, euid, ReadOptions{})
}
