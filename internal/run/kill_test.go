package run

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

// TestKilled_LeavesNoTempFile: the temporary archive is unlinked as soon as it is
// created, so no way out leaves it behind, not even one the program cannot act on: the
// real binary is stopped mid-upload by SIGKILL, and by a second SIGTERM (the first
// cancels the run; the second, as a CI runner sends when it loses patience, kills).
func TestKilled_LeavesNoTempFile(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "scalingo-deploy")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name    string
		signals []syscall.Signal
	}{
		{"SIGKILL mid-upload", []syscall.Signal{syscall.SIGKILL}},
		{"second SIGTERM mid-upload", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}},
		{"one SIGTERM mid-upload", []syscall.Signal{syscall.SIGTERM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{})
			block := make(chan struct{})
			defer close(block)
			w.fake.Inject(fakescalingo.Fault{Method: "PUT", Path: "storage", Block: block})
			tmp := t.TempDir()
			e := w.env("gitlab")
			e["TMPDIR"] = tmp

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			for k, v := range e {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Dir = w.ws
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The run says it uploads before it sends the PUT, which the fake holds.
			sc := bufio.NewScanner(stdout)
			uploading := false
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "Uploading ") {
					uploading = true
					break
				}
			}
			if !uploading {
				t.Fatalf("the run ended before uploading: %v", cmd.Wait())
			}
			for _, sig := range tt.signals {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			go func() {
				for sc.Scan() { // keep the pipe drained until the process is gone
				}
			}()
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the run was not stopped: %v", err)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				var names []string
				for _, e := range left {
					names = append(names, e.Name())
				}
				t.Errorf("temporary files left after %v: %v", tt.signals, names)
			}
		})
	}
}
