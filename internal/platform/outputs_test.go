package platform

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

func TestCheckDestinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform string
		// setup returns the output file and the environment, given a fresh folder.
		setup   func(dir string) (string, []string)
		wantErr string // "" for none
		warns   bool   // a warning about GITHUB_OUTPUT is printed
		nonRoot bool   // root writes through permissions
	}{
		{name: "good output file, not created", platform: ci.GitLab,
			setup: func(dir string) (string, []string) { return filepath.Join(dir, "o.env"), nil }},
		{name: "missing folder", platform: ci.GitLab, wantErr: "the output file",
			setup: func(dir string) (string, []string) { return filepath.Join(dir, "nope", "o.env"), nil }},
		{name: "read-only folder", platform: ci.Woodpecker, wantErr: "permission denied", nonRoot: true,
			setup: func(dir string) (string, []string) {
				ro := filepath.Join(dir, "ro")
				os.Mkdir(ro, 0o555)
				return filepath.Join(ro, "o.env"), nil
			}},
		{name: "output file is a folder", platform: ci.GitLab, wantErr: "is a directory",
			setup: func(dir string) (string, []string) { return dir, nil }},
		{name: "github: all good", platform: ci.GitHub,
			setup: func(dir string) (string, []string) {
				return "", []string{"GITHUB_OUTPUT", filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY", filepath.Join(dir, "sum")}
			}},
		{name: "github: GITHUB_OUTPUT unset warns", platform: ci.GitHub, warns: true,
			setup: func(dir string) (string, []string) { return "", nil }},
		{name: "github: GITHUB_OUTPUT a folder", platform: ci.GitHub, wantErr: "GITHUB_OUTPUT",
			setup: func(dir string) (string, []string) { return "", []string{"GITHUB_OUTPUT", dir} }},
		{name: "github: step summary read-only", platform: ci.GitHub, wantErr: "GITHUB_STEP_SUMMARY", nonRoot: true,
			setup: func(dir string) (string, []string) {
				sum := filepath.Join(dir, "sum")
				os.WriteFile(sum, nil, 0o444)
				return "", []string{"GITHUB_OUTPUT", filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY", sum}
			}},
		{name: "github: step summary a folder", platform: ci.GitHub, wantErr: "GITHUB_STEP_SUMMARY",
			setup: func(dir string) (string, []string) {
				return "", []string{"GITHUB_OUTPUT", filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY", dir}
			}},
		{name: "drone: DRONE_OUTPUT in a missing folder", platform: ci.Drone, wantErr: "DRONE_OUTPUT",
			setup: func(dir string) (string, []string) { return "", []string{"DRONE_OUTPUT", filepath.Join(dir, "x", "y")} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.nonRoot && os.Geteuid() == 0 {
				t.Skip("root writes through permissions")
			}
			dir := t.TempDir()
			file, kv := tt.setup(dir)
			before, _ := os.ReadDir(dir)
			var out bytes.Buffer
			err := New(ci.ByPlatform(tt.platform), &out, env(kv...), fixed).CheckDestinations(file)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var input interface{ InvalidInput() bool }
			if err != nil && !(errors.As(err, &input) && input.InvalidInput()) {
				t.Errorf("%v is not invalid input", err)
			}
			if warned := strings.Contains(out.String(), "::warning") && strings.Contains(out.String(), "GITHUB_OUTPUT is not set"); warned != tt.warns {
				t.Errorf("warned %v, want %v:\n%s", warned, tt.warns, out.String())
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Errorf("the check left files behind: %v, was %v", after, before)
			}
		})
	}
}

// TestCheckDestinations_DevFull: a full device opens fine; the write error comes when the
// outputs are written, naming the destination.
func TestCheckDestinations_DevFull(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	r := New(ci.ByPlatform(ci.GitLab), &bytes.Buffer{}, env(), fixed)
	if err := r.CheckDestinations("/dev/full"); err != nil {
		t.Fatalf("check: %v", err)
	}
	err := r.WriteOutputs(Outputs{Status: "success"}, "/dev/full")
	if err == nil || !strings.Contains(err.Error(), "/dev/full") || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("err = %v, want a write error naming /dev/full", err)
	}
}

// TestWriteOutputs_HostileValues: an API value holding a newline and go-githubactions'
// fixed heredoc delimiter must not add an output, nor a dotenv variable.
func TestWriteOutputs_HostileValues(t *testing.T) {
	t.Parallel()
	const delim = "_GitHubActionsFileCommandDelimeter_"
	o := Outputs{DeploymentID: "d-1", Status: "success", AppURL: "https://x.example\n" + delim + "\ninjected=yes\r\nstatus<<EOF\nhacked\nEOF",
		GitRef: "ref\u2028\rSCALINGO_INJECTED=1"}
	dir := t.TempDir()
	ghOut := filepath.Join(dir, "gh")
	if err := New(ci.ByPlatform(ci.GitHub), &bytes.Buffer{}, env("GITHUB_OUTPUT", ghOut), fixed).WriteOutputs(o, ""); err != nil {
		t.Fatal(err)
	}
	got := parseGitHubOutput(t, ghOut)
	want := map[string]string{"deployment-id": "d-1", "status": "success",
		"app-url": `https://x.example\n` + delim + `\ninjected=yes\r\nstatus<<EOF\nhacked\nEOF`, "git-ref": `ref\u2028\rSCALINGO_INJECTED=1`}
	if len(got) != len(want) {
		t.Errorf("GITHUB_OUTPUT holds %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}

	dotenv := filepath.Join(dir, "o.env")
	if err := New(ci.ByPlatform(ci.GitLab), &bytes.Buffer{}, env(), fixed).WriteOutputs(o, dotenv); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dotenv)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 4 || strings.ContainsAny(string(data), "\r\u2028") {
		t.Errorf("dotenv holds %d lines, want 4:\n%q", len(lines), data)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "SCALINGO_DEPLOYMENT_") && !strings.HasPrefix(l, "SCALINGO_APP_URL=") && !strings.HasPrefix(l, "SCALINGO_GIT_REF=") {
			t.Errorf("unexpected dotenv line %q", l)
		}
	}
}

// parseGitHubOutput reads GITHUB_OUTPUT as actions/runner's EnvFileKeyValuePairs does:
// lines split at \n (a \r before it dropped), empty lines skipped, "name<<DELIM" up to
// the first line equal to DELIM, else "name=value".
func parseGitHubOutput(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		if heredoc >= 0 && (eq < 0 || heredoc < eq) {
			name, delim := line[:heredoc], line[heredoc+2:]
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("GITHUB_OUTPUT: delimiter %q not found", delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if eq < 0 {
			t.Fatalf("GITHUB_OUTPUT: invalid line %q", line)
		}
		out[line[:eq]] = line[eq+1:]
	}
	return out
}

// randomDelimiter is the delimiter of one GITHUB_OUTPUT entry, as the writer makes it.
var randomDelimiter = regexp.MustCompile(`ghadelimiter_[0-9a-f]{32}`)

// TestWriteOutputs_Delimiters: every value is written under a delimiter of its own,
// random, so that no value — a git-ref input, an app URL from the API — can end its entry
// early. The values are the ones an attacker would try: go-githubactions' old fixed
// delimiter, alone or after an escaped newline, and a guess at the new one's shape.
func TestWriteOutputs_Delimiters(t *testing.T) {
	t.Parallel()
	const old = "_GitHubActionsFileCommandDelimeter_"
	tests := []struct {
		name string
		o    Outputs
		want map[string]string
	}{
		{"the old delimiter as the git ref", Outputs{Status: "success", GitRef: old},
			map[string]string{"status": "success", "git-ref": old}},
		{"the old delimiter as the app URL, then an output", Outputs{Status: "success", AppURL: old + "\nstatus=hacked"},
			map[string]string{"status": "success", "app-url": old + `\nstatus=hacked`}},
		{"a guess at the new delimiter", Outputs{Status: "success", GitRef: "ghadelimiter_00000000000000000000000000000000"},
			map[string]string{"status": "success", "git-ref": "ghadelimiter_00000000000000000000000000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "gh")
			if err := New(ci.ByPlatform(ci.GitHub), &bytes.Buffer{}, env("GITHUB_OUTPUT", path), fixed).WriteOutputs(tt.o, ""); err != nil {
				t.Fatal(err)
			}
			got := parseGitHubOutput(t, path)
			if len(got) != len(tt.want) {
				t.Errorf("GITHUB_OUTPUT holds %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("output %s = %q, want %q", k, got[k], v)
				}
			}
			// Each entry opens with a delimiter of its own and closes with it.
			data, _ := os.ReadFile(path)
			seen := map[string]bool{}
			for _, line := range strings.Split(string(data), "\n") {
				if _, d, ok := strings.Cut(line, "<<"); ok {
					if !randomDelimiter.MatchString(d) || seen[d] || strings.Count(string(data), "\n"+d+"\n") != 1 {
						t.Errorf("delimiter %q: want a fresh random one, closing its entry once", d)
					}
					seen[d] = true
				}
			}
			if len(seen) != len(tt.want) {
				t.Errorf("%d delimiters for %d values", len(seen), len(tt.want))
			}
		})
	}
}

// TestWriteHeredoc_RefusesItsDelimiter: a value that holds its delimiter is refused and
// nothing is written (by chance it never happens: 128 random bits).
func TestWriteHeredoc_RefusesItsDelimiter(t *testing.T) {
	t.Parallel()
	const delim = "ghadelimiter_0123456789abcdef0123456789abcdef"
	for _, value := range []string{delim, "x" + delim + "y", delim + `\nstatus=hacked`} {
		var b strings.Builder
		if err := writeHeredoc(&b, "git-ref", value, delim); err == nil || b.Len() != 0 {
			t.Errorf("value %q: err %v, wrote %q; want a refusal and nothing written", value, err, b.String())
		}
	}
	var b strings.Builder
	if err := writeHeredoc(&b, "git-ref", "abc", delim); err != nil || b.String() != "git-ref<<"+delim+"\nabc\n"+delim+"\n" {
		t.Errorf("wrote %q, %v", b.String(), err)
	}
}

// TestDestinations_NotRegular: a destination that is not a regular file (a FIFO, with or
// without a reader, a socket, a device other than /dev/null and /dev/full) is invalid
// input, found without blocking; /dev/null is fine.
func TestDestinations_NotRegular(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string
		wantErr string // "" for none
	}{
		{"a FIFO without a reader", func(t *testing.T, dir string) string { return mkfifo(t, dir) }, "a FIFO"},
		{"a FIFO with a reader", func(t *testing.T, dir string) string {
			p := mkfifo(t, dir)
			// O_RDWR on a FIFO opens at once (Linux), and keeps a reader there.
			f, err := os.OpenFile(p, os.O_RDWR|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return p
		}, "a FIFO"},
		{"a unix socket", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "s.sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return p
		}, "a socket"},
		{"/dev/zero", func(t *testing.T, _ string) string { return device(t, "/dev/zero") }, "a character device"},
		{"/dev/tty-like: /dev/urandom", func(t *testing.T, _ string) string { return device(t, "/dev/urandom") }, "a character device"},
		{"a symlink to a file", func(t *testing.T, dir string) string {
			target, p := filepath.Join(dir, "victim"), filepath.Join(dir, "link")
			if err := os.WriteFile(target, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "symbolic link"},
		{"/dev/null", func(t *testing.T, _ string) string { return device(t, "/dev/null") }, ""},
		{"a regular file", func(t *testing.T, dir string) string { return filepath.Join(dir, "o.env") }, ""},
	}
	for _, tt := range tests {
		for _, dest := range []string{"output file", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "DRONE_OUTPUT"} {
			t.Run(tt.name+"/"+dest, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := tt.setup(t, dir)
				platform, file, kv := ci.GitHub, "", []string{"GITHUB_OUTPUT", filepath.Join(dir, "out")}
				switch dest {
				case "output file":
					platform, file, kv = ci.GitLab, path, nil
				case "GITHUB_OUTPUT":
					kv = []string{"GITHUB_OUTPUT", path}
				case "GITHUB_STEP_SUMMARY":
					kv = append(kv, "GITHUB_STEP_SUMMARY", path)
				case "DRONE_OUTPUT":
					platform, kv = ci.Drone, []string{"DRONE_OUTPUT", path}
				}
				r := New(ci.ByPlatform(platform), &bytes.Buffer{}, env(kv...), fixed)
				done := make(chan error, 1)
				go func() { done <- r.CheckDestinations(file) }()
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second): // a bound on a hang, not a wait for time to pass
					t.Fatal("the check blocked")
				}
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("err = %v", err)
					}
					return
				}
				var input interface{ InvalidInput() bool }
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &input) || !input.InvalidInput() {
					t.Fatalf("err = %v, want invalid input saying %q", err, tt.wantErr)
				}
				// Writing is refused the same way, without blocking either: the outputs, a
				// deploy's summary, and a fleet mode's summary.
				writers := map[string]func() error{"outputs": func() error { return r.WriteOutputs(Outputs{Status: "success"}, file) }}
				if dest == "GITHUB_STEP_SUMMARY" {
					writers = map[string]func() error{
						"WriteSummary":  func() error { return r.WriteSummary(Summary{App: "a"}) },
						"AppendSummary": func() error { return r.AppendSummary(FleetTable("t", nil)) },
					}
				}
				for name, write := range writers {
					go func() { done <- write() }()
					select {
					case err = <-done:
					case <-time.After(10 * time.Second):
						t.Fatalf("%s blocked", name)
					}
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("%s: err = %v, want %q", name, err, tt.wantErr)
					}
				}
			})
		}
	}
}

func mkfifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

func device(t *testing.T, p string) string {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no %s", p)
	}
	return p
}
