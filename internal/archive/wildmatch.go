package archive

// This file matches one glob against one string the way git's wildmatch does
// (gitignore(5), "PATTERN FORMAT"). It is a Go implementation written for this
// package rather than a library call because the candidate libraries disagree
// with git on common patterns (see ignore.go); FuzzIgnore and TestIgnoreMatchesGit
// compare it with git itself.

// wmResult is a match outcome. The two abort results let an enclosing '*' stop
// trying further positions when no later position can match either.
type wmResult int

const (
	wmMatch wmResult = iota
	wmNoMatch
	wmAbortAll        // no shorter remainder of the text can match
	wmAbortToStarStar // only an enclosing '**' may still try further
)

// wildmatch reports whether text matches pattern. With pathname set, '*', '?'
// and bracket expressions never match '/', and '**' is special only as a whole
// path segment; without it, '*' matches anything.
func wildmatch(pattern, text string, pathname bool) bool {
	return wild(pattern, text, pathname) == wmMatch
}

func isGlobSpecial(c byte) bool {
	return c == '*' || c == '?' || c == '[' || c == '\\'
}

func wild(pat, text string, pathname bool) wmResult {
	pi, ti := 0, 0
	for ; pi < len(pat); pi, ti = pi+1, ti+1 {
		pc := pat[pi]
		if ti >= len(text) && pc != '*' {
			return wmAbortAll
		}
		var tc byte
		if ti < len(text) {
			tc = text[ti]
		}
		switch pc {
		case '\\':
			// The next byte is literal; a trailing backslash matches nothing.
			pi++
			if pi >= len(pat) || tc != pat[pi] {
				return wmNoMatch
			}
		case '?':
			if pathname && tc == '/' {
				return wmNoMatch
			}
		case '*':
			matchSlash := !pathname
			pi++
			if pi < len(pat) && pat[pi] == '*' {
				prevIsSep := pi < 2 || pat[pi-2] == '/' // the pattern's start counts as a segment start
				for pi < len(pat) && pat[pi] == '*' {
					pi++
				}
				if !pathname {
					matchSlash = true
				} else if prevIsSep && (pi == len(pat) || pat[pi] == '/' ||
					(pat[pi] == '\\' && pi+1 < len(pat) && pat[pi+1] == '/')) {
					// "**/" may also stand for no folder at all: "a/**/b" matches "a/b".
					if pi < len(pat) && pat[pi] == '/' && wild(pat[pi+1:], text[ti:], pathname) == wmMatch {
						return wmMatch
					}
					matchSlash = true
				} else {
					matchSlash = false
				}
			}
			if pi == len(pat) {
				// A trailing '**' takes everything; a trailing '*' only the rest of this segment.
				if !matchSlash && indexByte(text[ti:], '/') >= 0 {
					return wmNoMatch
				}
				return wmMatch
			}
			if !matchSlash && pat[pi] == '/' {
				// "*/" takes exactly the rest of the current segment.
				j := indexByte(text[ti:], '/')
				if j < 0 {
					return wmNoMatch
				}
				// Both now sit on a '/', which the loop steps over together.
				ti += j
				continue
			}
			return starLoop(pat[pi:], text[ti:], pathname, matchSlash)
		case '[':
			r, next := bracket(pat, pi, tc)
			if r != wmMatch {
				return r
			}
			if pathname && tc == '/' {
				return wmNoMatch
			}
			pi = next
		default:
			if tc != pc {
				return wmNoMatch
			}
		}
	}
	if ti < len(text) {
		return wmNoMatch
	}
	return wmMatch
}

// starLoop tries the rest of the pattern at each position a star can reach.
func starLoop(rest, text string, pathname, matchSlash bool) wmResult {
	for ti := 0; ti < len(text); ti++ {
		if !isGlobSpecial(rest[0]) {
			// Skip ahead to the next occurrence of the literal that follows the star.
			for ti < len(text) && (matchSlash || text[ti] != '/') && text[ti] != rest[0] {
				ti++
			}
			if ti >= len(text) || text[ti] != rest[0] {
				if matchSlash {
					return wmAbortAll
				}
				return wmAbortToStarStar
			}
		}
		r := wild(rest, text[ti:], pathname)
		if r != wmNoMatch {
			if !matchSlash || r != wmAbortToStarStar {
				return r
			}
		} else if !matchSlash && text[ti] == '/' {
			return wmAbortToStarStar
		}
	}
	return wmAbortAll
}

// bracket evaluates the bracket expression starting at pat[open] == '[' for the
// byte c. It returns wmMatch and the index of the closing ']' when the
// expression accepts c, wmNoMatch when it rejects it, or wmAbortAll when the
// expression is malformed (unterminated, or an unknown [:class:]), which makes
// the whole pattern fail.
func bracket(pat string, open int, c byte) (wmResult, int) {
	p := open + 1
	at := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	pc := at(p)
	negated := false
	if pc == '!' || pc == '^' {
		negated = true
		p++
		pc = at(p)
	}
	var prev byte
	matched := false
	// The first member may be ']' itself, so the loop tests for the end after each member.
	for {
		if pc == 0 {
			return wmAbortAll, 0
		}
		switch {
		case pc == '\\':
			p++
			pc = at(p)
			if pc == 0 {
				return wmAbortAll, 0
			}
			if c == pc {
				matched = true
			}
		case pc == '-' && prev != 0 && at(p+1) != 0 && at(p+1) != ']':
			p++
			hi := at(p)
			if hi == '\\' {
				p++
				hi = at(p)
				if hi == 0 {
					return wmAbortAll, 0
				}
			}
			if c >= prev && c <= hi {
				matched = true
			}
			pc = 0 // a range cannot start another range
		case pc == '[' && at(p+1) == ':':
			s := p + 2
			e := s
			for e < len(pat) && pat[e] != ']' {
				e++
			}
			if e >= len(pat) {
				return wmAbortAll, 0
			}
			if e-s-1 < 0 || pat[e-1] != ':' {
				// Not a "[:name:]": the '[' is an ordinary member.
				pc = '['
				if c == pc {
					matched = true
				}
				break
			}
			ok, known := posixClass(pat[s:e-1], c)
			if !known {
				return wmAbortAll, 0
			}
			if ok {
				matched = true
			}
			p = e
			pc = 0
		default:
			if c == pc {
				matched = true
			}
		}
		prev = pc
		p++
		pc = at(p)
		if pc == ']' {
			break
		}
	}
	if matched == negated {
		return wmNoMatch, 0
	}
	return wmMatch, p
}

// posixClass tests c against a "[:name:]" class, ASCII only, as git does.
func posixClass(name string, c byte) (ok, known bool) {
	isUpper := c >= 'A' && c <= 'Z'
	isLower := c >= 'a' && c <= 'z'
	isDigit := c >= '0' && c <= '9'
	isAlpha := isUpper || isLower
	isPrint := c >= 0x20 && c <= 0x7e
	isPunct := isPrint && c != ' ' && !isAlpha && !isDigit
	switch name {
	case "alnum":
		return isAlpha || isDigit, true
	case "alpha":
		return isAlpha, true
	case "blank":
		return c == ' ' || c == '\t', true
	case "cntrl":
		return c < 0x20 || c == 0x7f, true
	case "digit":
		return isDigit, true
	case "graph":
		return isPrint && c != ' ', true
	case "lower":
		return isLower, true
	case "print":
		return isPrint, true
	case "punct":
		return isPunct, true
	case "space":
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f', true
	case "upper":
		return isUpper, true
	case "xdigit":
		return isDigit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'), true
	}
	return false, false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
