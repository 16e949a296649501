package gitref

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzHead writes arbitrary HEAD, loose ref and packed-refs contents: Head must return
// either an error or a well-formed object id, never panic or hang.
func FuzzHead(f *testing.F) {
	f.Add("ref: refs/heads/main\n", sha1+"\n", "# pack-refs with: peeled\n"+sha1+" refs/heads/main\n")
	f.Add(sha1, "", "")
	f.Add("ref: refs/heads/a", "ref: refs/heads/main", sha1+" refs/heads/main\n^"+sha1+"\n")
	f.Add("ref: refs/heads/../../x", "", "")
	f.Fuzz(func(t *testing.T, head, ref, packed string) {
		dir := filepath.Join(t.TempDir(), ".git")
		os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755)
		os.WriteFile(filepath.Join(dir, "HEAD"), []byte(head), 0o644)
		if ref != "" {
			os.WriteFile(filepath.Join(dir, "refs", "heads", "a"), []byte(ref), 0o644)
		}
		if packed != "" {
			os.WriteFile(filepath.Join(dir, "packed-refs"), []byte(packed), 0o644)
		}
		got, err := Head(filepath.Dir(dir))
		if err == nil && !isObjectID(got) {
			t.Errorf("Head = %q without error", got)
		}
	})
}
