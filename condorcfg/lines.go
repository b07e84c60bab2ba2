package condorcfg

import "strings"

// lineReader splits configuration text into logical lines exactly the way
// HTCondor's getline_implementation (src/condor_utils/config.cpp) does:
//
//   - every physical line is trimmed of leading and trailing white space;
//   - a line ending in '\' continues on the next line (the '\' is dropped,
//     the space before it kept);
//   - with the default "#opt:newcomment" rules, a comment line never
//     continues, and a '#' line inside a continuation contributes only its
//     last character (so "#  STARTD, \" in the middle of a list is skipped
//     but keeps the continuation going);
//   - with "#opt:oldcomment" neither special case applies.
type lineReader struct {
	data        string
	pos         int
	line        int // physical lines consumed so far
	oldComments bool
}

const cSpaces = " \t\n\v\f\r"

// next returns the next logical line and the physical line it started on.
func (r *lineReader) next() (text string, start int, ok bool) {
	var buf []byte
	first := true
	for {
		if r.pos >= len(r.data) {
			if first {
				return "", 0, false
			}
			return string(buf), start, true
		}
		var phys string
		if i := strings.IndexByte(r.data[r.pos:], '\n'); i >= 0 {
			phys, r.pos = r.data[r.pos:r.pos+i], r.pos+i+1
		} else {
			phys, r.pos = r.data[r.pos:], len(r.data)
		}
		r.line++
		if first {
			start = r.line
		}
		t := strings.Trim(phys, cSpaces)
		comment := strings.HasPrefix(t, "#")
		if comment && !first && !r.oldComments {
			t, comment = t[len(t)-1:], false
		}
		buf = append(buf, t...)
		if n := len(buf); n > 0 && buf[n-1] == '\\' {
			buf = buf[:n-1]
			if !comment || r.oldComments {
				first = false
				continue
			}
		}
		return string(buf), start, true
	}
}

// ifStack tracks nested if/elif/else/endif (ConfigIfStack in config.cpp).
type ifStack struct{ frames []ifFrame }

type ifFrame struct {
	on     bool // this branch is being read
	anyOn  bool // some branch of this if was taken
	inElse bool
}

// maxIfDepth matches ConfigIfStack, which keeps the state in a 64-bit mask.
const maxIfDepth = 63

func (s *ifStack) enabled() bool {
	for _, f := range s.frames {
		if !f.on {
			return false
		}
	}
	return true
}

func (s *ifStack) insideIf() bool { return len(s.frames) > 0 }

// ifKeyword recognises if/else/elif/endif followed by white space or the end
// of the line, case-insensitively, and returns the keyword and its argument.
func ifKeyword(line string) (kw, arg string) {
	for _, k := range []string{"if", "else", "elif", "endif"} {
		if len(line) >= len(k) && strings.EqualFold(line[:len(k)], k) &&
			(len(line) == len(k) || isCSpace(line[len(k)])) {
			return k, strings.TrimLeft(line[len(k):], cSpaces)
		}
	}
	return "", ""
}

// handle processes line if it is an if-statement. A condition is evaluated
// only when its branch could be taken, so errors in skipped conditions go
// unreported, as in HTCondor.
func (s *ifStack) handle(line string, env condEnv) (bool, error) {
	kw, arg := ifKeyword(line)
	switch kw {
	case "if":
		on := false
		if s.enabled() {
			v, err := testCond(arg, env)
			if err != nil {
				return true, condError(arg, "if", err)
			}
			on = v
		}
		if len(s.frames) >= maxIfDepth {
			return true, errorString("if nesting too deep")
		}
		s.frames = append(s.frames, ifFrame{on: on, anyOn: on})
	case "elif":
		if len(s.frames) == 0 {
			return true, errorString("elif without matching if")
		}
		top := &s.frames[len(s.frames)-1]
		if top.inElse {
			return true, errorString("elif is not allowed after else")
		}
		outer := ifStack{frames: s.frames[:len(s.frames)-1]}
		if top.anyOn || !outer.enabled() {
			top.on = false
			break
		}
		v, err := testCond(arg, env)
		if err != nil {
			return true, condError(arg, "elif", err)
		}
		top.on, top.anyOn = v, v
	case "else":
		if len(s.frames) == 0 {
			return true, errorString("else without matching if")
		}
		top := &s.frames[len(s.frames)-1]
		if top.inElse {
			return true, errorString("else is not allowed after else")
		}
		top.on, top.inElse = !top.anyOn, true
	case "endif":
		if len(s.frames) == 0 {
			return true, errorString("endif without matching if")
		}
		s.frames = s.frames[:len(s.frames)-1]
	default:
		return false, nil
	}
	return true, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

type condErr struct {
	expr, kw string
	err      error
}

func (e *condErr) Error() string {
	return e.expr + " is not a valid " + e.kw + " condition because " + e.err.Error()
}
func (e *condErr) Unwrap() error { return e.err }

func condError(expr, kw string, err error) error { return &condErr{expr: expr, kw: kw, err: err} }
