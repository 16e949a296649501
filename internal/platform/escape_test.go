package platform

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ghrunner"
)

// TestEscapeLog: a build log keeps its tabs and colours; nothing else gets through.
func TestEscapeLog(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "-----> Fetching source code", "-----> Fetching source code"},
		{"tab kept", "a\tb", "a\tb"},
		{"colours kept", "\x1b[1;32mok\x1b[0m", "\x1b[1;32mok\x1b[0m"},
		{"erase line escaped", "\x1b[2Kx", `\x1b[2Kx`},
		{"a GitLab section stays broken", "\x1b[0Ksection_start:1:x\r\x1b[0K", `\x1b[0Ksection_start:1:x\r\x1b[0K`},
		{"colour then section", "\x1b[0msection_end:1:x\r\x1b[0K", "\x1b[0msection_end:1:x\\r\\x1b[0K"},
		{"OSC link escaped", "\x1b]8;;https://x\x07y", `\x1b]8;;https://x\x07y`},
		{"unterminated colour", "\x1b[31", `\x1b[31`},
		{"carriage return", "a\r::warning::X", `a\r::warning::X`},
		{"lines kept", "one\n\x1b[33mtwo", "one\n\x1b[33mtwo"},
		{"leading colons", "::warning::X", `\x3a:warning::X`},
		{"Azure logging command in a build log", "\x1b[32m##vso[task.complete result=Succeeded]", "\x1b[32m##vso\\x5btask.complete result=Succeeded]"},
		{"Azure command hidden by a zero-width space", "##\u200bvso[task.complete]", `##\u200bvso[task.complete]`},
		{"Azure command hidden by a soft hyphen", "##vso\u00ad[task.complete]", `##vso\u00ad[task.complete]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EscapeLog(tt.in); got != tt.want {
				t.Errorf("EscapeLog(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "src/main.go", "src/main.go"},
		{"unicode kept", "café/日本.txt", "café/日本.txt"},
		{"carriage return", "a\r::warning::X", `a\r::warning::X`},
		{"newline", "a\n::error::X", `a\n::error::X`},
		{"vertical tab first", "\v::error::X", `\v::error::X`},
		{"form feed, tab", "\f\t", `\f\t`},
		{"ESC: a GitLab section", "\x1b[0Ksection_start:1:x\r\x1b[0K", `\x1b[0Ksection_start:1:x\r\x1b[0K`},
		{"NEL, LS, PS", "a\u0085b\u2028c\u2029d", `a\u0085b\u2028c\u2029d`},
		{"other C1", "a\u009bb", `a\u009bb`},
		{"DEL and NUL", "a\x7f\x00", `a\x7f\x00`},
		{"invalid UTF-8", "a\xffb", `a\xffb`},
		{"backslash", `a\rb`, `a\\rb`},
		{"leading colons", "::warning::X", `\x3a:warning::X`},
		{"ideographic space then colons", "\u3000::warning::X", "\u3000\\x3a:warning::X"},
		{"spaces then colons", "  \u00a0::x::y", "  \u00a0\\x3a:x::y"},
		{"zero-width space then colons", "\u200b::x::y", `\u200b::x::y`},
		{"BOM then colons", "\ufeff::x::y", `\ufeff::x::y`},
		{"Azure command split by a zero-width space", "##\u200bvso[task.complete result=Succeeded]", `##\u200bvso[task.complete result=Succeeded]`},
		{"Azure command split by a soft hyphen", "#\u00ad#vso[task.setvariable variable=X]y", `#\u00ad#vso[task.setvariable variable=X]y`},
		{"Azure command split by a word joiner", "##vso\u2060[task.complete]", `##vso\u2060[task.complete]`},
		{"bidi override", "evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"a tag character", "a\U000e0041b", `a\U000e0041b`},
		{"colons inside", "a::b::c", "a::b::c"},
		{"legacy form anywhere", "x##[warning]y", `x##\x5bwarning]y`},
		{"legacy form twice", "###[##[", `###\x5b##\x5b`},
		{"Azure logging command anywhere", "x ##vso[task.setvariable variable=X]evil", `x ##vso\x5btask.setvariable variable=X]evil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// FuzzEscape: whatever the input, the output holds no control character nor line
// separator, and on a line of its own (or after any leading whitespace) it is no
// workflow command; escaping is one-to-one, and EscapeLines keeps it so line by line.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\r::warning::X", "\u3000::warning::X", "\v::error::X", "x##[warning]y",
		"\x1b[0Ksection_end:1:x\r\x1b[0K", "a\u2028::b::c", "\xff::", `\`, "##", "#", "[", ":", "##vso[task.complete]",
		"#\x00#vso[", "\x1b[1m##vso[", "##\u200bvso[", "#\u00ad#vso[", "##vso\ufeff[", "\u200b::x"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		for i, got := range []string{Escape(s), EscapeLines(s), EscapeLog(s)} {
			// Invisible characters dropped (as a viewer or a later tool might), still no
			// Azure Pipelines logging command.
			visible := strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Cf, r) {
					return -1
				}
				return r
			}, got)
			if strings.Contains(visible, "##vso[") {
				t.Fatalf("%q escapes to %q, an Azure Pipelines logging command", s, got)
			}
			for _, line := range strings.Split(got, "\n") {
				if i == 2 { // a build log keeps its tabs and colours, nothing else
					line = sgr.ReplaceAllString(strings.ReplaceAll(line, "\t", ""), "")
				}
				for _, r := range line {
					if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
						t.Fatalf("Escape(%q) = %q holds %U", s, got, r)
					}
				}
				for _, prefix := range []string{"", "  ", "\u3000"} {
					if cmds, _ := ghrunner.Commands(prefix + line); len(cmds) > 0 {
						t.Fatalf("%q escapes to a command line %q: %q", s, prefix+line, cmds)
					}
				}
				if i < 2 && EscapeLines(line) != line {
					t.Fatalf("escaping %q twice changes it: %q then %q", s, line, EscapeLines(line))
				}
			}
		}
		if s != other && Escape(s) == Escape(other) {
			t.Fatalf("%q and %q escape alike: %q", s, other, Escape(s))
		}
	})
}
