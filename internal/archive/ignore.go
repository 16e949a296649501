package archive

import (
	"bytes"
	"strings"
)

// Ignore rules follow git's own code paths (dir.c) rather than a library:
// go-git's plumbing/format/gitignore, the matcher the brief pointed at, treats a
// pattern that matches a parent folder as matching everything below it, so
// "*.txt" followed by "!docs" keeps docs/a.txt (git ignores it), "dist/**"
// ignores the folder dist itself (so "!dist/keep" cannot bring a file back),
// and its segment globs use path/filepath.Match, which reads "[!a]" as "! or
// a" and knows no "[[:alpha:]]". TestGoGitDisagrees pins those cases against
// git check-ignore; TestIgnoreMatchesGit and FuzzIgnore compare this code with
// git on whole trees.

// pattern is one parsed line of an ignore file.
type pattern struct {
	text      string // without the leading '!' and one trailing '/'
	base      string // the folder the rule lives in, relative to the match root; "" for the root
	prefix    int    // length of text's leading run without glob characters (git's nowildcardlen)
	negative  bool   // "!pattern": re-include
	mustBeDir bool   // "pattern/": matches folders only (a symlink is not a folder)
	noDir     bool   // no '/' in text: matches the base name at any depth below base
	file      string // where the rule was read, to name it in messages; "" for Options.Exclude
	line      int    // 1-based line in file, or index in Options.Exclude
}

// parseIgnoreFile reads the lines of the ignore file file living in folder base.
func parseIgnoreFile(data []byte, base, file string) []pattern {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var ps []pattern
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		p := parsePattern(trimTrailingSpaces(string(line)), base)
		p.file, p.line = file, n
		ps = append(ps, p)
	}
	return ps
}

// parseExcludes parses extra patterns given one per element, anchored at the root.
func parseExcludes(lines []string) []pattern {
	var ps []pattern
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if l == "" || l[0] == '#' {
			continue
		}
		p := parsePattern(trimTrailingSpaces(l), "")
		p.line = i + 1
		ps = append(ps, p)
	}
	return ps
}

// trimTrailingSpaces drops unescaped trailing spaces (not tabs), as git does.
func trimTrailingSpaces(s string) string {
	lastSpace := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			if lastSpace < 0 {
				lastSpace = i
			}
		case '\\':
			i++
			if i >= len(s) {
				return s
			}
			lastSpace = -1
		default:
			lastSpace = -1
		}
	}
	if lastSpace >= 0 {
		return s[:lastSpace]
	}
	return s
}

func parsePattern(s, base string) pattern {
	p := pattern{base: base}
	if strings.HasPrefix(s, "!") {
		p.negative = true
		s = s[1:]
	}
	n := len(s)
	if n > 0 && s[n-1] == '/' {
		p.mustBeDir = true
		n--
	}
	p.noDir = strings.IndexByte(s[:n], '/') < 0
	p.prefix = simpleLength(s)
	if p.prefix > n {
		p.prefix = n
	}
	p.text = s[:n]
	return p
}

// simpleLength is the length of s's leading run free of glob characters.
func simpleLength(s string) int {
	for i := 0; i < len(s); i++ {
		if isGlobSpecial(s[i]) {
			return i
		}
	}
	return len(s)
}

// matches reports whether p matches path (relative to the match root, no
// trailing slash), whose last element is name. Only rules of folders above
// path are ever asked, so path is below p.base.
func (p *pattern) matches(path, name string, isDir bool) bool {
	if p.mustBeDir && !isDir {
		return false
	}
	if p.noDir {
		if p.prefix == len(p.text) {
			return p.text == name
		}
		return wildmatch(p.text, name, false)
	}
	return matchPathname(path, p.base, p.text, p.prefix)
}

// matchPathname matches a pattern holding a '/' against the part of path below base.
func matchPathname(path, base, pat string, prefix int) bool {
	if strings.HasPrefix(pat, "/") {
		pat = pat[1:]
		prefix--
	}
	name := path
	if base != "" {
		if len(path) < len(base)+1 || path[len(base)] != '/' || path[:len(base)] != base {
			return false
		}
		name = path[len(base)+1:]
	}
	if prefix > 0 {
		// The literal head is compared as is; the glob engine sees only the rest,
		// so a "**" right after the head counts as the start of a pattern (as in git).
		if prefix > len(name) || pat[:prefix] != name[:prefix] {
			return false
		}
		pat, name = pat[prefix:], name[prefix:]
		if pat == "" && name == "" {
			return true
		}
	}
	return wildmatch(pat, name, true)
}

// ruleStack holds the rules that apply at one point of a depth-first walk:
// the extra excludes (checked first, like git's command-line excludes), then
// one list per folder from the deepest to the root, each read bottom-up.
type ruleStack struct {
	excludes []pattern
	frames   [][]pattern // frames[0] is the root's
	// When the path is a folder inside a git checkout, the .gitignore files
	// of the folders above it apply too, with the lowest priority, as they
	// would for git; their bases are relative to the checkout's top, where
	// the path lives at rootRel.
	ancestors []pattern // shallowest first
	rootRel   string
}

func (r *ruleStack) push(ps []pattern) { r.frames = append(r.frames, ps) }
func (r *ruleStack) pop()              { r.frames = r.frames[:len(r.frames)-1] }

// ignored reports whether git would ignore path, given that no folder above
// it is ignored, and the rule that decided it (nil when none matched).
func (r *ruleStack) ignored(path, name string, isDir bool) (bool, *pattern) {
	for i := len(r.excludes) - 1; i >= 0; i-- {
		if p := &r.excludes[i]; p.matches(path, name, isDir) {
			return !p.negative, p
		}
	}
	for f := len(r.frames) - 1; f >= 0; f-- {
		ps := r.frames[f]
		for i := len(ps) - 1; i >= 0; i-- {
			if p := &ps[i]; p.matches(path, name, isDir) {
				return !p.negative, p
			}
		}
	}
	if len(r.ancestors) > 0 {
		full := r.rootRel + "/" + path
		for i := len(r.ancestors) - 1; i >= 0; i-- {
			if p := &r.ancestors[i]; p.matches(full, name, isDir) {
				return !p.negative, p
			}
		}
	}
	return false, nil
}
