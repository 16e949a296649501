package run

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/")

// stable replaces what differs from run to run (random ids and tokens, temporary paths,
// ports, sizes and digests of an archive whose files have the test's mtimes, the fake
// clock's start) with placeholders, so that the rest is compared line for line.
func stable(out string, w *world, ids ...string) string {
	for _, id := range ids {
		out = strings.ReplaceAll(out, id, "<deployment-id>")
	}
	out = strings.ReplaceAll(out, w.ws, "<workspace>")
	for _, re := range []struct{ re, with string }{
		{`(?m)^::add-mask::.*$`, "::add-mask::<secret>"},
		{`\b[0-9a-f]{32}\b`, "<token>"},
		{`sha256 [0-9a-f]{64}`, "sha256 <sha256>"},
		{`\d+(\.\d)? (B|KiB|MiB)\b`, "<size>"},
		{`127\.0\.0\.1:\d+`, "127.0.0.1:<port>"},
		{`section_(start|end):\d+:`, "section_$1:<time>:"},
		// The stream's reconnect backoff moves the same fake clock as the poller.
		{`\[\d\d:\d\d\]`, "[mm:ss]"},
		{`duration=\S+`, "duration=<d>"},
	} {
		out = regexp.MustCompile(re.re).ReplaceAllString(out, re.with)
	}
	return out
}

// TestLog_Golden: the log of a failed deployment (build-error) on GitHub and on GitLab,
// read top to bottom: one group holding the whole build log with the status changes,
// then the verdict, what it means and the last lines, once. The stream is refused so
// that the log comes through the API in a fixed order.
func TestLog_Golden(t *testing.T) {
	t.Parallel()
	for _, platform := range []string{"github", "gitlab"} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{FinalStatus: "build-error", NoStream: true})
			e := w.env(platform, "SOURCE_DATE_EPOCH", "1700000000")
			if platform == "github" {
				dir := t.TempDir()
				e["GITHUB_OUTPUT"], e["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "out"), filepath.Join(dir, "summary.md")
			}
			res := w.run(t, context.Background(), e)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			deps := w.fake.Deployments("my-app")
			if len(deps) != 1 {
				t.Fatalf("%d deployments", len(deps))
			}
			got := stable(res.stdout+"--- stderr\n"+res.stderr, w, deps[0].ID)

			golden := filepath.Join("..", "..", "testdata", "golden", platform+"-failed.log")
			if *update {
				// Writing is all -update does: comparing the output with itself would
				// pass whatever it is.
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestLog_Golden -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("the log differs from %s:\n%s", golden, got)
			}
			// What the golden must show, whatever it is updated to: one group, closed
			// before the verdict, and the verdict once.
			groups := strings.Count(got, "::group::") + strings.Count(got, "section_start:")
			if groups != 1 {
				t.Errorf("%d groups, want 1", groups)
			}
			end := max(strings.Index(got, "::endgroup::"), strings.Index(got, "section_end:"))
			verdict := strings.Index(got, "] build-error")
			if strings.Count(got, "] build-error") != 1 || verdict < end {
				t.Errorf("the verdict shows %d times, at %d, the group ends at %d", strings.Count(got, "] build-error"), verdict, end)
			}
		})
	}
}

// TestLog_OneGroup: whichever way the log comes (live, dropped and resumed, through the
// API), a deployment's log is one group, closed before the verdict, which shows once,
// after every line of the build log.
func TestLog_OneGroup(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		sc   fakescalingo.Scenario
	}{
		{"live, failed", fakescalingo.Scenario{Log: sixSteps, FinalStatus: "build-error"}},
		{"live, success", fakescalingo.Scenario{Log: sixSteps}},
		{"stream dropped", fakescalingo.Scenario{Log: sixSteps, DropStreamAfter: 3, FinalStatus: "crashed-error"}},
		{"stream without final status", fakescalingo.Scenario{Log: sixSteps, NoFinalStreamStatus: true}},
	}
	for _, platform := range []string{"github", "gitlab"} {
		for _, s := range scenarios {
			t.Run(platform+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, fakescalingo.Options{})
				w.fake.AddApp("my-app", s.sc)
				e := w.env(platform)
				if platform == "github" {
					e["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "out")
				}
				res := w.run(t, context.Background(), e)
				out := res.stdout
				open, closeMark := "::group::", "::endgroup::"
				if platform == "gitlab" {
					open, closeMark = "section_start:", "section_end:"
				}
				status := w.fake.Deployments("my-app")[0].Status
				end := strings.Index(out, closeMark)
				verdict := strings.Index(out, "] "+status+":")
				lastLog := strings.Index(out, sixSteps[len(sixSteps)-1])
				if strings.Count(out, open) != 1 || strings.Count(out, closeMark) != 1 ||
					strings.Count(out, "] "+status+":") != 1 || end < lastLog || verdict < end {
					t.Errorf("groups %d/%d, verdict %q %d times at %d, last log line at %d, group end at %d:\n%s",
						strings.Count(out, open), strings.Count(out, closeMark), status, strings.Count(out, "] "+status+":"), verdict, lastLog, end, out)
				}
			})
		}
	}
}
