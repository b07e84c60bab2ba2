// Package classad evaluates the subset of HTCondor ClassAd expressions that
// configuration knobs such as LOCAL_CREDMON_AUTHZ_TEMPLATE_EXPR use
// (docs/htcondor-contract.md#local-issuer): an expression evaluated in a one-level ad like
// [ Username = "alice" ] that must yield a string, for example
//
//	strcat("read:/user/", Username, " write:/user/", Username)
//	ifThenElse(Username == "admin", "read:/ write:/", strcat("read:/user/", Username))
//
// It depends on the standard library only. Semantics follow HTCondor's own
// implementation (src/classad/lexer.cpp, source.cpp, operators.cpp,
// fnCall.cpp, src/condor_utils/compat_classad.cpp), and the manual
// ("HTCondor's ClassAd Mechanism") where the code is silent.
//
// # Contract
//
// Parse turns source into an immutable Expr, or a *SyntaxError naming the
// byte offset and what was expected. Eval never fails: like HTCondor, every
// operator is total and problems become the UNDEFINED or ERROR values,
// whose Reason says why. EvalString wraps both for the common case and
// reports a non-string result as an error wrapping ErrNotString. An Expr
// may be evaluated concurrently; an Ad must not be modified meanwhile.
//
// # Supported
//
//   - Literals: integers (decimal, 0x hex, an adjacent leading '-'), reals
//     (1.5, .5, 1e-3), strings with C escapes (\n \t \" \\ \ooo; a
//     backslash before any other character stands for that character)
//     where adjacent literals concatenate ("a" "b"), true, false,
//     undefined, error (case-insensitive), lists { a, b }.
//   - Attribute references, case-insensitive, optionally 'quoted', with the
//     prefixes MY. and SELF. (the ad itself), TARGET. (always UNDEFINED:
//     there is no target ad, as the manual says for single-ad evaluation)
//     and the absolute form .Name. A missing attribute is UNDEFINED; a
//     reference back into an attribute being evaluated is ERROR.
//   - Operators, loosest first: ?: (and the a ?: b default form), ||, &&,
//     |, ^, &, == != =?= =!= is isnt, < <= > >=, << >> >>>, + -, * / %,
//     unary - + ! ~, list subscript l[i], parentheses. || and && are
//     non-strict (false && UNDEFINED is false, true || ERROR is true); =?=
//     and =!= compare kind and value, strings case-sensitively, and are
//     never UNDEFINED; all others are strict (ERROR beats UNDEFINED). ==
//     and the orderings compare strings case-insensitively; comparing a
//     string with a number is ERROR; booleans act as 0 and 1 in arithmetic
//     and comparisons; integer division by zero is ERROR.
//   - Functions (names case-insensitive): isUndefined isError isString
//     isInteger isReal isBoolean isList isClassAd isAbsTime isRelTime,
//     member identicalMember size sum avg min max anyCompare allCompare,
//     strcat join toUpper toLower substr strcmp stricmp, regexp
//     regexpMember regexps replace replaceAll, int real string bool floor
//     ceiling ceil round, ifThenElse, stringListSize stringListMember
//     stringListIMember stringListsIntersect split splitUserName
//     splitSlotName.
//
// # Rejected by Parse
//
// Each is a *SyntaxError; those HTCondor itself accepts also wrap
// ErrUnsupported.
//
//   - Functions HTCondor has that need ClassAd values, the clock,
//     randomness, the HTCondor configuration or the OS (userMap, userHome,
//     time, formatTime, eval, unparse, random, ...) or that are not
//     implemented (pow, quantize, version*, stringListSum...): "unsupported
//     function". Any other name: "unknown function" (HTCondor would
//     evaluate it to ERROR). There is no sprintf or length in HTCondor's
//     function table; use strcat and size.
//   - A wrong number of arguments (HTCondor: ERROR at evaluation).
//   - Nested ClassAd literals [ a = 1 ] and selection expr.name other than
//     the MY./SELF./TARGET. prefixes.
//   - Size suffixes on numbers (10K, 2G), integers with a leading zero
//     (HTCondor reads 010 as 8 or 10 depending on configuration), integer
//     literals outside int64, NUL bytes, nesting deeper than 1000 levels.
//
// # Differences from HTCondor worth knowing
//
//   - Where the manual and fnCall.cpp disagree the code wins: strcat, join,
//     toUpper, toLower, string, int and real return UNDEFINED (not ERROR)
//     for an UNDEFINED argument; isBoolean is true only for booleans;
//     min/max keep the winning element's type; avg({}) is 0.
//   - substr with an offset before the start of the string returns the part
//     inside the string, as the manual describes (the C++ throws).
//   - Regular expressions use Go's RE2 syntax, not PCRE: backreferences,
//     lookaround and the "x" option are ERROR (with the reason), $ without
//     "m" does not match before a final newline, and replaceAll finds
//     empty matches by Go's rule. Everything else (options i m s f g,
//     \0-\9 in replacements) behaves as in HTCondor.
//   - Reals in Value.String and Expr.String use the shortest round-trip
//     form (1.5); string conversion (string(), strcat(), join()) writes
//     them as HTCondor does, "%1.15E" (1.500000000000000E+00).
//   - Special names that are not attributes of the ad: CurrentTime and a
//     bare MY/SELF/ROOT/TOPLEVEL are ERROR with a reason, not the current
//     time or a ClassAd value. MY and SELF always mean the ad, even if it
//     has an attribute named MY.
//   - Hex literals follow new-ClassAd semantics: 0x10 is 16. HTCondor
//     daemons run with old-ClassAd semantics unless
//     STRICT_CLASSAD_EVALUATION is true, and then lexer.cpp reads 0x10 as
//     0 (strtoll base 10); avoid hex in configuration.
//   - split() separates at comma, space and tab by default
//     (compat_classad.cpp; the manual says "white space"). The string-list
//     functions separate at comma and space (the manual; recent HTCondor
//     adds tab, CR and LF for stringListMember) and trim white space
//     around items. stringListMember treats one UNDEFINED argument as ""
//     and two as UNDEFINED; stringListSize and split want strings.
//   - Strings are byte strings: size and substr count bytes; toUpper and
//     toLower change ASCII letters only; case-insensitive comparisons
//     fold ASCII only (strcasecmp in the C locale).
package classad
