// Package annotate finds, in the build log of a failed deployment, the places in the
// repository that the compiler or the runtime blamed, so that the CI can show the error
// at the line that broke.
//
// Scan reads the log for locations in the forms compilers and runtimes print; Shipped
// maps each logged path back to a file the archive shipped; Locate keeps those that map,
// first first. The log is untrusted: a location that maps to no shipped file is dropped,
// and messages are plain text for the caller to escape.
package annotate

import (
	"regexp"
	"strconv"
	"strings"
)

// MaxCandidates bounds what Scan keeps of a log, whatever its size.
const MaxCandidates = 500

// maxMessage bounds a message, in bytes.
const maxMessage = 400

// Candidate is a location as the log printed it: the path is the builder's, not yet the
// repository's.
type Candidate struct {
	Path      string
	Line, Col int
	Message   string
	// group, when not 0, makes the candidate one frame of a stack trace: Locate keeps
	// one frame per trace, the mapped one with the lowest rank (the innermost).
	group, rank int
}

// The forms, tried in this order on each line (colours removed). Paths hold no blanks:
// a builder's paths rarely do, and a path with one would make every prose line a match.
var (
	// Python: `  File "/tmp/build_x/app.py", line 9, in main`.
	pythonFrame = regexp.MustCompile(`^(\s*)File "([^"]+)", line (\d+)`)
	// Rust: ` --> src/main.rs:3:20`, under the `error[E0425]: …` line.
	rustArrow = regexp.MustCompile(`^\s*--> (\S+?):(\d+):(\d+)\s*$`)
	// Node stack frames: `    at greet (/tmp/build_x/lib/greet.js:4:32)` or `    at /app/x.js:1:2`.
	nodeFrame = regexp.MustCompile(`^\s*at (?:.*? \()?(\S+?):(\d+):(\d+)\)?\s*$`)
	// Ruby's deeper frames, `	from /app/app.rb:7:in '<main>'`: the first line has the
	// innermost one already.
	rubyFrom = regexp.MustCompile(`^\s*from \S+?:\d+:in `)
	// Maven: `[ERROR] /tmp/build_x/src/main/java/App.java:[5,21] incompatible types`.
	maven = regexp.MustCompile(`(\S+?):\[(\d+),(\d+)\]\s*(.*)$`)
	// TypeScript, MSBuild, PHP traces: `src/index.ts(2,7): error TS2322: …`.
	parens = regexp.MustCompile(`(?:^|\s)([^\s()]+)\((\d+)(?:,(\d+))?\)\s*:\s*(.*)$`)
	// PHP: `PHP Parse error:  syntax error, … in /app/index.php on line 3`.
	phpOnLine = regexp.MustCompile(`^(.*?) in (\S+) on line (\d+)\s*$`)
	// ESLint's default (stylish) format: the file on a line of its own, then its rows,
	// `  4:9   error  'unused' is assigned a value but never used  no-unused-vars`.
	stylishFile = regexp.MustCompile(`^\s*(\S+\.\w+)\s*$`)
	stylishRow  = regexp.MustCompile(`^\s+(\d+):(\d+)\s+error\s+(.+?)(?:\s{2,}([\w@/-]+))?\s*$`)
	// Go, gcc/clang, javac, ESLint's unix format, Ruby, tsc --pretty: `path:line[:col]…`.
	plain = regexp.MustCompile(`(?:^|[\s'"(=])([^\s:'"()\[\]<>,]+):(\d+)(?::(\d+))?(?:[:\s,)]|$)(.*)$`)
	// A line that states an error: `TypeError: …`, `NameError: …`, `error[E0425]: …`, `error: …`.
	errorLine = regexp.MustCompile(`^\s*(?:Uncaught\s+)?(?:[A-Za-z_$][\w.$]*(?:Error|Exception)|error(?:\[\w+\])?)\b:?`)
	// Colours and other escape sequences (CSI) a builder's tools print.
	ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
)

// StripANSI removes the colours and other escape sequences a build log holds: the one
// stripper of the program (the verdict's first error, the pull request's comment).
func StripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

// Locates tells whether line, alone, names a location where a build broke, as Scan reads
// one (a warning's does not count).
func Locates(line string) bool { return len(Scan([]string{line})) > 0 }

// Scan returns the locations that lines (a build log, first line first) print, in log
// order, at most MaxCandidates. Warnings and notes are not where a build broke, and are
// left out.
func Scan(lines []string) []Candidate {
	clean := make([]string, len(lines))
	for i, l := range lines {
		clean[i] = strings.TrimRight(StripANSI(l), "\r")
	}
	var out []Candidate
	add := func(c Candidate) {
		// A path has a folder or an extension: "12:34:56" or "2024-01-02T10:11:12Z" is a
		// time, and must not use up the budget before the compiler speaks.
		if len(out) < MaxCandidates && c.Line > 0 && strings.ContainsAny(c.Path, "./") {
			c.Message = shorten(strings.TrimSpace(c.Message))
			out = append(out, c)
		}
	}
	nodeGroup := 0 // the line index of the first frame of the current Node trace
	stylish := ""  // the file of the ESLint rows that follow
	for i, l := range clean {
		if len(out) >= MaxCandidates {
			break
		}
		if strings.TrimSpace(l) == "" {
			stylish = ""
			continue
		}
		if m := stylishFile.FindStringSubmatch(l); m != nil {
			stylish = m[1]
			continue
		}
		if m := stylishRow.FindStringSubmatch(l); m != nil && stylish != "" {
			msg := m[3]
			if m[4] != "" {
				msg += " (" + m[4] + ")"
			}
			add(Candidate{Path: stylish, Line: atoi(m[1]), Col: atoi(m[2]), Message: msg})
			continue
		}
		if warning(l) {
			continue
		}
		if m := nodeFrame.FindStringSubmatch(l); m != nil {
			if nodeGroup == 0 || !nodeFrame.MatchString(clean[i-1]) {
				nodeGroup = i + 1
			}
			add(Candidate{Path: m[1], Line: atoi(m[2]), Col: atoi(m[3]), Message: lineAbove(clean, nodeGroup-1),
				group: nodeGroup, rank: i})
			continue
		}
		if m := pythonFrame.FindStringSubmatch(l); m != nil {
			end := exceptionLine(clean, i, len(m[1]))
			msg := ""
			if end >= 0 {
				msg = clean[end]
			}
			// All the frames of one traceback end at the same exception line: one group,
			// the innermost (last) frame first.
			add(Candidate{Path: m[2], Line: atoi(m[3]), Message: msg, group: -(end + 2), rank: -i})
			continue
		}
		if m := rustArrow.FindStringSubmatch(l); m != nil {
			msg := lineAbove(clean, i)
			if !warning(msg) {
				add(Candidate{Path: m[1], Line: atoi(m[2]), Col: atoi(m[3]), Message: msg})
			}
			continue
		}
		if rubyFrom.MatchString(l) {
			continue
		}
		if m := maven.FindStringSubmatch(l); m != nil {
			add(Candidate{Path: m[1], Line: atoi(m[2]), Col: atoi(m[3]), Message: m[4]})
			continue
		}
		if m := parens.FindStringSubmatch(l); m != nil {
			add(Candidate{Path: m[1], Line: atoi(m[2]), Col: atoi(m[3]), Message: m[4]})
			continue
		}
		if m := phpOnLine.FindStringSubmatch(l); m != nil {
			add(Candidate{Path: m[2], Line: atoi(m[3]), Message: m[1]})
			continue
		}
		if m := plain.FindStringSubmatch(l); m != nil {
			msg := strings.TrimLeft(m[4], " \t:-")
			switch {
			case warning(msg):
				continue
			case msg == "":
				// Node prints `/app/lib/greet.js:4`, the code, a caret, then the error.
				if msg = errorBelow(clean, i); msg == "" {
					msg = l
				}
			}
			add(Candidate{Path: m[1], Line: atoi(m[2]), Col: atoi(m[3]), Message: msg})
		}
	}
	return out
}

// warning tells whether a line (or a message) is a warning or a note rather than an error.
func warning(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"warning", "note:", "note[", "info:", "hint:", "help:", "[warning]", "[warn]", "[info]"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.Contains(s, "[warning/") // ESLint's unix format
}

// exceptionLine returns the line that ends the Python traceback holding the frame at
// line i, indented by indent: the first later line indented less (a buildpack may indent
// the whole log). -1 if the log ends first.
func exceptionLine(lines []string, i, indent int) int {
	for j := i + 1; j < len(lines) && j <= i+200; j++ {
		l := lines[j]
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(l)-len(strings.TrimLeft(l, " \t")) < indent {
			return j
		}
	}
	return -1
}

// lineAbove is the nearest line above i that is not blank, "" if none.
func lineAbove(lines []string, i int) string {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if strings.TrimSpace(lines[j]) != "" {
			return lines[j]
		}
	}
	return ""
}

// errorBelow is the error line in the few lines after i, else "".
func errorBelow(lines []string, i int) string {
	for j := i + 1; j < len(lines) && j <= i+6; j++ {
		if errorLine.MatchString(lines[j]) {
			return lines[j]
		}
	}
	return ""
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n > 10_000_000 {
		return 0
	}
	return n
}

// shorten cuts s to maxMessage bytes, at a rune boundary.
func shorten(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
