package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// Spellings are what GoSpellings rewrites besides a flag's own long name
// with one dash.
type Spellings struct {
	// Aliases: a name fs's NormalizeFunc maps to a flag (an old name of
	// the flag) is a long name with one dash too. Off, the NormalizeFunc
	// may expand abbreviations (credmon's argparse prefixes), which Go's
	// flag package never took: -deb stays -d -e -b.
	Aliases bool
	// DoubleDashShort: a one-letter option with two dashes (--o FILE, --v)
	// is the short option, as Go's flag package read it.
	DoubleDashShort bool
}

// GoSpellings rewrites the spellings Go's flag package accepted, which
// scripts written for earlier releases may use, into pflag's: a long
// option with one dash (-name X, -minsecs=60) becomes --name X. pflag
// reads -name as the short options -n ame, and has no setting for
// single-dash long options (its NormalizeFunc sees names, not dashes), so
// this is done by hand, before parsing. It walks the arguments as pflag
// does, so that a flag's value is never rewritten (-o -minsecs writes to a
// file named -minsecs), and stops at "--". Its output is a fixed point:
// rewriting it again changes nothing.
func GoSpellings(fs *pflag.FlagSet, args []string, sp Spellings) []string {
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	long := func(name string) *pflag.Flag {
		if f := fs.Lookup(name); f != nil && (sp.Aliases || f.Name == name) {
			return f
		}
		return nil
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		out = append(out, arg)
		switch {
		case arg == "--":
			return append(out, args[i+1:]...)
		case strings.HasPrefix(arg, "--"):
			name, _, hasValue := strings.Cut(arg[2:], "=")
			f := fs.Lookup(name)
			if f == nil && sp.DoubleDashShort && len(name) == 1 {
				if f = fs.ShorthandLookup(name); f != nil {
					out[len(out)-1] = arg[1:]
				}
			}
			if !hasValue && takesValue(f) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			name, _, hasValue := strings.Cut(arg[1:], "=")
			if f := long(name); f != nil && len(name) > 1 {
				out[len(out)-1] = "-" + arg
				if !hasValue && takesValue(f) && i+1 < len(args) {
					i++
					out = append(out, args[i])
				}
				continue
			}
			// Short options, bundled as pflag and argparse read them
			// (-vv, -vk FILE, -kFILE): the first that takes a value takes
			// the rest of the argument, or the next one if it is last.
			for j := 1; j < len(arg); j++ {
				f := fs.ShorthandLookup(arg[j : j+1])
				if f == nil {
					break // pflag refuses the argument here
				}
				if !takesValue(f) {
					continue
				}
				if j == len(arg)-1 && i+1 < len(args) {
					i++
					out = append(out, args[i])
				}
				break
			}
		}
	}
	return out
}
