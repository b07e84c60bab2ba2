// Package classad evaluates the subset of HTCondor ClassAd expressions that
// configuration knobs such as LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR use
// (docs/htcondor-contract.md#local-issuer): an expression evaluated in a
// one-level ad like [ Username = "alice" ] that must yield a string, for
// example
//
//	strcat("read:/user/", Username, " write:/user/", Username)
//	ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))
//
// It depends on the standard library only, and follows HTCondor's own
// implementation (and its manual where the code is silent).
//
// # Contract
//
// Parse turns source into an immutable Expr, or a *SyntaxError naming the
// byte offset and what was expected; MustParse panics instead, for
// constants. Eval never fails: like HTCondor, every operator is total and
// problems become the UNDEFINED or ERROR values, whose Reason says why.
// EvalString wraps both for the common case and reports a non-string result
// as an error wrapping ErrNotString. An Ad is built with NewAd or ParseAd.
// An Expr may be evaluated concurrently; an Ad must not be modified
// meanwhile.
//
// Parse refuses what it cannot evaluate as HTCondor would, rather than
// guess: functions that need the clock, randomness, the HTCondor
// configuration or other ads, nested ad literals, size suffixes, and
// ambiguous literals. Those HTCondor itself accepts wrap ErrUnsupported.
//
// The supported operators and functions, what is refused and why, and the
// differences from HTCondor (RE2 regular expressions, hex literals, byte
// strings, …) are in docs/reimplementations.md#classad.
package classad
