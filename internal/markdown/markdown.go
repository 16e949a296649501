// Package markdown escapes text this program does not control (API answers, build logs,
// names) for GitHub-flavoured Markdown: the pull request's comment and the step summary.
// Nothing escaped here can become a link, an image, a mention, a tag or a table cell.
package markdown

import (
	"net/url"
	"strings"
	"unicode"
)

// Text escapes s for Markdown and HTML, inline: every character Markdown could read as
// syntax there is backslash-escaped (: and . too, which bare URLs autolink on), < > &
// become entities, a mention is broken, controls (newlines) become spaces. - and +
// mean something only at a line's start, where Text's result never is: they stay, so
// that names and ids read as they are.
func Text(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			b.WriteByte(' ')
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '@':
			// A mention would notify someone: break it with a zero-width joiner.
			b.WriteString("@\u200d")
		case strings.ContainsRune("\\`*_[]()#|!~{}.:", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Code is s as a one-backtick code span, outside a table: backticks and controls
// dropped, so that nothing closes the span early; nothing in a span is a link or a
// mention.
func Code(s string) string {
	return "`" + strings.Map(func(r rune) rune {
		if r == '`' || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s) + "`"
}

// CodeCell is Code for a table's cell: pipes escaped, as GitHub splits a row on them even
// in code.
func CodeCell(s string) string { return strings.ReplaceAll(Code(s), "|", `\|`) }

// Fence is a backtick fence longer than any run of backticks in s, so that no line of s
// can close it.
func Fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// Fenced is log as a code block that no line of it can close.
func Fenced(log string) string {
	fence := Fence(log)
	return fence + "\n" + strings.TrimRight(log, "\n") + "\n" + fence
}

// SafeURL accepts an absolute http(s) URL with nothing Markdown or HTML could read as
// syntax: it may be written between < and > as a link.
func SafeURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || strings.ContainsRune("<>\"'`|\\()[]", r) || r > unicode.MaxASCII
	})
}

// TextWithCode is Text, except that what s holds between backticks becomes a code span:
// for a sentence this program writes around API text ("see `scalingo --app x logs`").
// Nothing in it becomes a link or a mention either way.
func TextWithCode(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString(Code(p))
		case i%2 == 1:
			// An unclosed backtick: text.
			b.WriteString(Text("`" + p))
		default:
			b.WriteString(Text(p))
		}
	}
	return b.String()
}
