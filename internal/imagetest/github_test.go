package imagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitHubDockerStep runs the image as GitHub's runner runs a `uses: docker://IMAGE` step: the
// image's own entrypoint (not action.yml's), inputs as INPUT_* variables with their hyphens,
// the workspace and the file-command files mounted, the output file created beforehand by the
// runner's user (uid 1001).
func TestGitHubDockerStep(t *testing.T) {
	t.Parallel()
	img := image(t)
	srv := startFake(t)
	ws := newWorkspace(t)
	cmds := t.TempDir()
	output := writeFile(t, cmds, "set_output_3f2a", "")
	if err := os.Chown(output, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	const sha = "89abcdef0123456789abcdef0123456789abcdef"

	out, code := podmanRun(t, "",
		"--volume", ws+":/github/workspace", "--workdir", "/github/workspace",
		"--volume", cmds+":/github/file_commands",
		"--env", "GITHUB_ACTIONS=true", "--env", "CI=true",
		"--env", "GITHUB_WORKSPACE=/github/workspace", "--env", "GITHUB_SHA="+sha,
		"--env", "GITHUB_OUTPUT=/github/file_commands/set_output_3f2a",
		"--env", "INPUT_API-TOKEN="+srv.APIToken, "--env", "INPUT_APP="+appName,
		"--env", "INPUT_API-URL="+srv.APIURL, "--env", "INPUT_AUTH-URL="+srv.AuthURL,
		"--env", "INPUT_OUTPUT-FILE=", "--env", "INPUT_REGION=",
		img)
	if code != 0 {
		t.Fatalf("step exited %d\n%s", code, out)
	}
	if first, _, _ := strings.Cut(out, "\n"); !strings.HasPrefix(first, "::add-mask::") {
		t.Errorf("first line %q, want ::add-mask:: before anything else", first)
	}
	data, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	gh := parseGitHubOutput(t, string(data))
	outputs := map[string]string{}
	for name, dotenv := range map[string]string{
		"deployment-id": "SCALINGO_DEPLOYMENT_ID", "status": "SCALINGO_DEPLOYMENT_STATUS",
		"app-url": "SCALINGO_APP_URL", "git-ref": "SCALINGO_GIT_REF", "archive-size": "SCALINGO_ARCHIVE_SIZE",
	} {
		if v, ok := gh[name]; ok {
			outputs[dotenv] = v
		}
	}
	// Without a token in the log: strip the mask command, which GitHub's runner consumes.
	var shown []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			shown = append(shown, line)
		}
	}
	checkDeployed(t, srv, outputs, sha, strings.Join(shown, "\n"))
	if _, err := os.Stat(filepath.Join(ws, "scalingo-deploy.env")); err == nil {
		t.Errorf("a dotenv file was written on GitHub, where outputs go to GITHUB_OUTPUT")
	}
}

// parseGitHubOutput reads a GITHUB_OUTPUT file as the runner does (FileCommandManager.cs):
// name=value lines and name<<DELIMITER heredocs.
func parseGitHubOutput(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var value []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("GITHUB_OUTPUT: delimiter %q of %q not found:\n%s", delim, name, data)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT: bad line %q", line)
		}
		out[name] = value
	}
	return out
}
