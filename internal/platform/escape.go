package platform

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s (a file name, an API value: text this program does not control) as
// one line that no CI runner can read a command into:
//
//   - every control character (C0, DEL, C1 with U+0085), the line and paragraph
//     separators U+2028 and U+2029, every format character (Unicode category Cf: the
//     zero-width space U+200B, the soft hyphen U+00AD, the BOM, bidi overrides…) and
//     invalid UTF-8 are shown escaped (\r, \n, \t, \v, \f, \xNN, \uNNNN), and a
//     backslash as \\, so that two names never print alike. A format character is
//     invisible: "##\u200bvso[" reads as "##vso[" to a person, and a log viewer or a
//     later tool that drops such characters would read an Azure Pipelines command in it;
//   - a colon that, past leading whitespace, would start the line is escaped: the GitHub
//     runner trims all Unicode whitespace (U+3000 too) before looking for "::";
//   - "##[" (the GitHub runner's legacy command form, honoured anywhere in a line) and
//     "##vso[" (Azure Pipelines' logging commands, honoured anywhere too) are broken.
//
// GitLab sections need \r and ESC, which are escaped. The result holds no character for
// which unicode.IsControl is true, and none of category Cf.
func Escape(s string) string { return escape(s, true) }

// EscapeLines escapes each line of s as Escape does, keeping the line breaks and leaving
// backslashes alone: for messages of ours that quote untrusted text, and for build logs.
func EscapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escape(l, false)
	}
	return strings.Join(lines, "\n")
}

// EscapeLog escapes a build log as EscapeLines does, but keeps its tabs and its colours
// (SGR sequences, ESC [ digits and semicolons m), which every CI log viewer renders and
// none reads a command from: a GitLab section marker needs \r, which stays escaped, and on
// GitHub the log is inside a stop-commands block. Any other escape sequence (cursor
// moves, erasing a line, OSC links) is shown escaped.
func EscapeLog(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escapeWith(l, false, true)
	}
	return strings.Join(lines, "\n")
}

func escape(s string, backslash bool) string { return escapeWith(s, backslash, false) }

// sgrLen is the length of the colour sequence at the start of s, 0 if there is none.
func sgrLen(s string) int {
	if !strings.HasPrefix(s, "\x1b[") {
		return 0
	}
	for i := 2; i < len(s) && i < 64; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c != ';' && (c < '0' || c > '9'):
			return 0
		}
	}
	return 0
}

func escapeWith(s string, backslash, log bool) string {
	if safe(s, backslash) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if log {
			if n := sgrLen(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			if r == '\t' {
				b.WriteByte('\t')
				i++
				continue
			}
		}
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\v':
			b.WriteString(`\v`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0xffff && unicode.Is(unicode.Cf, r): // tags, musical and shorthand format controls
			fmt.Fprintf(&b, `\U%08x`, r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	out := b.String()
	// A leading colon, past what the runner trims, could start "::command::". Format
	// characters (zero-width space, BOM) are skipped too: older .NET trimmed them.
	start := len(out) - len(strings.TrimLeftFunc(out, blank))
	if strings.HasPrefix(out[start:], ":") {
		out = out[:start] + `\x3a` + out[start+1:]
	}
	return strings.NewReplacer("##[", `##\x5b`, "##vso[", `##vso\x5b`).Replace(out)
}

// safe tells whether s needs no escaping, the common case.
func safe(s string, backslash bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) || (backslash && r == '\\') {
			return false
		}
	}
	trimmed := strings.TrimLeftFunc(s, blank)
	return !strings.HasPrefix(trimmed, ":") && !strings.Contains(s, "##[") && !strings.Contains(s, "##vso[")
}

func blank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }
