package platform

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSummary_HostileText: what the API says (a failure's cause, an app's URL, a status)
// and what a build prints (its first error, its log) reach the step summary as text: an
// attacker who controls them cannot make a link, an image, a mention or a tag, nor close
// the log's block.
func TestSummary_HostileText(t *testing.T) {
	const evil = "[x](https://evil) ![i](https://evil/i.png) @someone <b>bold</b>"
	hostile := Summary{
		App: "my-app", Region: "osc-fr1", DeploymentID: "d-1", Status: "build-error " + evil,
		Duration: time.Second, AppURL: "https://my-app.example/[x](https://evil)",
		Verdict: Failed, Said: "my-app was not deployed: " + evil, FirstError: "main.go:1: " + evil + " `x` | y",
		Todo:    "retry " + evil,
		LogTail: "step 1\n```\n</details>\n" + evil + "\n~~~",
	}
	other := Summary{App: "my-web", Region: "osc-fr1", Verdict: Deployed, Said: "deployed my-web", Status: "success", AppURL: evil}
	for _, tt := range []struct {
		name string
		md   string
	}{
		{"one target", hostile.Markdown()},
		{"several targets", Table([]Summary{hostile, other})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Outside the fenced log and code spans, nothing of the attacker's is
			// Markdown or HTML.
			outside, log := splitFence(t, tt.md)
			outside = codeSpan.ReplaceAllString(outside, "`…`")
			for _, bad := range []string{"](https://evil", "<b>", "</b>", "@someone", "<https://my-app.example/["} {
				if strings.Contains(outside, bad) {
					t.Errorf("%q reaches the summary as Markdown:\n%s", bad, tt.md)
				}
			}
			if !strings.Contains(log, "</details>") {
				t.Errorf("the log's lines are not all inside its block:\n%s", tt.md)
			}
		})
	}
}

var codeSpan = regexp.MustCompile("`[^`\n]*`")

// splitFence returns md without its fenced blocks, and the blocks' content.
func splitFence(t *testing.T, md string) (outside, inside string) {
	t.Helper()
	var out, in strings.Builder
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(l, "```"):
			fence = l
		case fence != "" && l == fence:
			fence = ""
		case fence != "":
			in.WriteString(l + "\n")
		default:
			out.WriteString(l + "\n")
		}
	}
	if fence != "" {
		t.Fatalf("a fenced block is not closed:\n%s", md)
	}
	return out.String(), in.String()
}
