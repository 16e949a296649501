package imagetest

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImage_Config checks what GitHub, GitLab, Drone and Woodpecker rely on in the image itself.
func TestImage_Config(t *testing.T) {
	t.Parallel()
	img := image(t)
	out, err := podman(context.Background(), "image", "inspect", "--format", "{{json .Config}}", img)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Entrypoint []string
		Cmd        []string
		User       string
		WorkingDir string
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if got, want := strings.Join(cfg.Entrypoint, " "), "/entrypoint"; got != want {
		t.Errorf("Entrypoint = %q, want %q (exec form)", got, want)
	}
	if len(cfg.Cmd) != 0 {
		t.Errorf("Cmd = %q, want none: a plugin runs with no arguments", cfg.Cmd)
	}
	if cfg.User != "" {
		t.Errorf("User = %q, want none: GitHub's output files need root", cfg.User)
	}
	if cfg.WorkingDir != "" && cfg.WorkingDir != "/" {
		t.Errorf("WorkingDir = %q, want none: each platform sets its own", cfg.WorkingDir)
	}
}

// TestEntrypoint runs the image's entrypoint with the arguments each platform passes.
func TestEntrypoint(t *testing.T) {
	t.Parallel()
	img := image(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string // the whole stdout
	}{
		{
			name: "GitLab shell detection script",
			args: []string{"sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash; elif [ -x /bin/sh ]; then exec /bin/sh; fi"},
			want: "root /usr/local/bin/scalingo-deploy\n",
		},
		{
			name: "absolute shell path",
			args: []string{"/bin/sh", "-c", `echo "$(id -un) $(command -v scalingo-deploy)"`},
			want: "root /usr/local/bin/scalingo-deploy\n",
		},
		{
			name: "shell with arguments",
			args: []string{"sh", "-c", `echo "$0|$1|$2"`, "zero", "one two", ""},
			want: "zero|one two|\n",
		},
		{
			name: "flags go to the tool, whose version is stamped",
			args: []string{"--version"},
			want: "scalingo-deploy imagetest\n",
		},
		{
			name: "the tool's name first",
			args: []string{"scalingo-deploy", "--version"},
			want: "scalingo-deploy imagetest\n",
		},
		{
			name: "CA certificates",
			args: []string{"sh", "-c", "test -s /etc/ssl/certs/ca-certificates.crt && echo ok"},
			want: "ok\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"run", "--rm", "-i", "--pull=never"}
			for _, e := range tt.env {
				args = append(args, "--env", e)
			}
			args = append(args, img)
			args = append(args, tt.args...)
			cmd := exec.Command("podman", args...)
			if tt.name == "GitLab shell detection script" {
				// GitLab feeds the job script to the detected shell on stdin.
				cmd.Stdin = strings.NewReader(`echo "$(id -un) $(command -v scalingo-deploy)"` + "\n")
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
			}
			if got := string(out); got != tt.want {
				t.Errorf("stdout = %q, want %q", got, tt.want)
			}
		})
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
