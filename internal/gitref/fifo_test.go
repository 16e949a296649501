//go:build unix

package gitref

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO would block the open for ever: it must be refused unopened.
func TestHeadFIFO(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"HEAD", "refs/heads/main", "packed-refs"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, ".git")
			os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755)
			if name != "HEAD" {
				os.WriteFile(filepath.Join(dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
			}
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			_, err := Head(root)
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("Head error %v, want not a regular file", err)
			}
		})
	}
}
