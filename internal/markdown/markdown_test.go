package markdown

import (
	"strings"
	"testing"
)

// TestText_Hostile: what an attacker puts in an API answer or a log line renders as the
// same text, never as a link, an image, a mention, a tag, an autolink or a table cell.
func TestText_Hostile(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"link", "[x](https://evil)", `\[x\]\(https\://evil\)`},
		{"image", "![i](https://evil/i.png)", `\!\[i\]\(https\://evil/i\.png\)`},
		{"mention", "@someone", "@\u200dsomeone"},
		{"tag", "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"},
		{"bare autolink", "www.evil.com", `www\.evil\.com`},
		{"cell", "a | b", `a \| b`},
		{"emphasis", "*a* _b_ ~c~", `\*a\* \_b\_ \~c\~`},
		{"newline", "a\n# b", `a \# b`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextWithCode(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"command", "see `scalingo --app a logs`", "see `scalingo --app a logs`"},
		{"link in code", "`[x](https://evil)` then [y](z)", "`[x](https://evil)` then \\[y\\]\\(z\\)"},
		{"unclosed", "a `[x](y)", "a \\`\\[x\\]\\(y\\)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := TextWithCode(tt.in); got != tt.want {
				t.Errorf("TextWithCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFenced_NoLineClosesIt(t *testing.T) {
	log := "a\n````\n</details>\n```"
	got := Fenced(log)
	fence := strings.SplitN(got, "\n", 2)[0]
	if fence != "`````" || !strings.HasSuffix(got, "\n"+fence) {
		t.Errorf("Fenced = %q", got)
	}
}

func TestSafeURL(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"https://my-app.osc-fr1.scalingo.io", true},
		{"https://github.com/o/r_x/actions/runs/1", true},
		{"javascript:alert(1)", false},
		{"https://a/[x](https://evil)", false},
		{"https://user:pw@a/", false},
		{"https://a/<b>", false},
		{"https://a/ b", false},
	} {
		if got := SafeURL(tt.in); got != tt.ok {
			t.Errorf("SafeURL(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}
