package tryit

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// section is the README section whose shell blocks run here.
const section = "## Try it without an account"

// blocks are what each shell block of the section must print (its exit code must be 0: a
// block showing a failure says so with `|| echo "exit code $?"`). The first block builds,
// the second starts the fake; a block added to the README needs a row here.
var blocks = []struct {
	name string
	want []string
	// check, when set, says what is wrong with the output, or "".
	check func(out string) string
}{
	{"build", nil, nil},
	{"fake", []string{"export SCALINGO_AUTH_URL=http://127.0.0.1:", "export SCALINGO_API_TOKEN="}, nil},
	{"one deploy", []string{"<-- Start deployment of my-app -->", "status=success"}, nil},
	{"several apps in two regions", []string{"app=my-app region=osc-fr1", "app=my-api region=osc-secnum-fr1", "status=success"}, nil},
	{"a failure", []string{"Push rejected, failed to compile", "status=build-error", "exit code 1"}, nil},
	{"a health check", []string{"Health check: HTTP 200", "HTTP 503", "exit code 1"}, nil},
	{"a review app", []string{"my-app-pr1", "postgresql", "status=success", "destroyed"}, nil},
	{"a sweep", []string{"review-app=my-app-pr7 parent=my-app status=would-delete", "review-app=my-app-pr7 parent=my-app status=deleted",
		"review-app=my-app-pr8 parent=my-app status=kept"}, nil},
	{"sleep and wake", []string{"my-app-pr8: asleep (stopped web:2:M,worker:1:S", "my-app-pr8: awake (restored web:2:M,worker:1:S)"}, nil},
	{"linked review apps", []string{"2 of 2 deployed", "SCALINGO_APP_URL_MY_API_PR9=http://127.0.0.1:"}, linkedURL},
}

// linkedURL: my-app's review app got the URL of my-api's, which the output file names.
func linkedURL(out string) string {
	api := regexp.MustCompile(`(?m)^SCALINGO_APP_URL_MY_API_PR9=(\S+)$`).FindStringSubmatch(out)
	if api == nil || !strings.Contains(out, "\n"+api[1]+"/v1\n") {
		return "my-app-pr9's API_URL is not my-api-pr9's URL + /v1"
	}
	return ""
}

// shellBlocks returns the ```sh blocks of the README's section, in order.
func shellBlocks(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "\n"+section+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[i+len(section)+2:]
	if j := strings.Index(text, "\n## "); j >= 0 {
		text = text[:j]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// plainEnv is a newcomer's shell: no CI variable (the test itself may run in one), the
// built binaries on PATH.
func plainEnv(bin, home, tmp string) []string {
	return []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "TMPDIR=" + tmp, "LANG=C.UTF-8"}
}

func TestReadmeTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs deployments of a few seconds each")
	}
	got := shellBlocks(t)
	if len(got) != len(blocks) {
		t.Fatalf("the README's %q section has %d shell blocks, this test knows %d: give each its row in blocks", section, len(got), len(blocks))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	home := t.TempDir()
	project := t.TempDir() // the folder to deploy
	if err := os.WriteFile(filepath.Join(project, "index.html"), []byte("<h1>hello</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The build block, as written, from the repository's root; go and its caches come from
	// the test's own environment.
	build := exec.Command("bash", "-euc", got[0])
	build.Dir = root
	build.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build block: %v\n%s", err, out)
	}
	bin := filepath.Join(tmp, "scalingo-try")
	env := plainEnv(bin, home, tmp)

	exports := startFake(t, got[1], project, env)
	for _, want := range blocks[1].want {
		if !strings.Contains(exports, want) {
			t.Errorf("block %d (%s) printed no %q:\n%s", 1, blocks[1].name, want, exports)
		}
	}
	for i := 2; i < len(blocks); i++ {
		b := blocks[i]
		ok := t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			// The export lines the fake printed, pasted as they are, then the block.
			cmd := exec.CommandContext(ctx, "bash", "-c", exports+"\n"+got[i])
			cmd.Dir = project
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("block %d exits: %v\n%s", i, err, out)
			}
			for _, w := range b.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("block %d prints no %q:\n%s", i, w, out)
				}
			}
			if b.check != nil {
				if msg := b.check(string(out)); msg != "" {
					t.Errorf("block %d: %s:\n%s", i, msg, out)
				}
			}
		})
		if !ok {
			break // the blocks build on each other
		}
	}
}

// startFake runs the fake's block until the test ends and returns its export lines.
func startFake(t *testing.T, block, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", block)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stderr = os.Stderr
	// Its own process group, so that the fake goes with the shell that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	var exports strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "export ") {
			exports.WriteString(line + "\n")
		}
		if strings.HasPrefix(line, "# Ctrl-C") {
			go func() {
				for sc.Scan() {
				}
			}()
			return exports.String()
		}
	}
	t.Fatalf("the fake's block ended before it was ready: %v", sc.Err())
	return ""
}
