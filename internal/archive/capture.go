package archive

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/mholt/archives"
)

// MaxCapture bounds the file Options.Capture reads into memory.
const MaxCapture = 1 << 20

// checkCapture refuses a capture name that is not a plain file name: it is a constant of
// the caller's, so this is a programming error.
func checkCapture(name string) error {
	if name == "" {
		return nil
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("archive: capture %q is not a file name", name)
	}
	return nil
}

// captureError says why the captured file cannot be read; the tree or archive is the
// user's, so it is invalid input.
func captureError(name, why string) error {
	return &inputError{msg: fmt.Sprintf("%s at the root of the deployed tree %s", name, why)}
}

// readCapture reads at most MaxCapture bytes of a captured file; never nil.
func readCapture(name string, r io.Reader, size int64) ([]byte, error) {
	if size > MaxCapture {
		return nil, captureError(name, fmt.Sprintf("is larger than %d bytes", MaxCapture))
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxCapture+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxCapture {
		return nil, captureError(name, fmt.Sprintf("is larger than %d bytes", MaxCapture))
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// treeCapture is the visit of the file to capture while the tree is written: its content
// is kept as it goes into the archive, so what is captured is what is deployed.
func treeCapture(name string, it *item) (bool, error) {
	if name == "" || it.name != name {
		return false, nil
	}
	switch {
	case it.mode&fs.ModeSymlink != 0:
		// Following it could read a file outside the tree (a pull request writes the tree).
		return false, captureError(name, "is a symbolic link; make it a regular file")
	case !it.mode.IsRegular() || it.hard:
		return false, captureError(name, "is not a regular file")
	case it.size > MaxCapture:
		return false, captureError(name, fmt.Sprintf("is larger than %d bytes", MaxCapture))
	}
	return true, nil
}

// captureTee collects what a copy reads.
type captureTee struct{ buf bytes.Buffer }

// slot is one candidate for the captured file in a prebuilt archive.
type slot struct {
	set  bool
	data []byte
	err  error
}

// archiveCapture watches the entries of a prebuilt archive as they are scanned. Which
// folder is the archive's root is known only once every entry is seen, so two candidates
// are kept: <name> at the archive's root and <folder>/<name> (used when every entry lies in
// that one folder). Memory stays at most 2 × MaxCapture.
type archiveCapture struct {
	name         string
	root, nested slot
	nestedDir    string
}

func (c *archiveCapture) see(s scanned, fi archives.FileInfo) error {
	if c == nil || c.name == "" || s.name == "" {
		return nil
	}
	var sl *slot
	if s.name == c.name {
		sl = &c.root
	} else if dir, rest, ok := strings.Cut(s.name, "/"); ok && rest == c.name {
		// Only the single top folder's candidate is ever used: another folder's means
		// there is no single top folder, and the root candidate counts.
		c.nestedDir = dir
		sl = &c.nested
	} else {
		return nil
	}
	// A later entry of the same name wins, as it would on extraction.
	*sl = slot{set: true}
	switch {
	case s.it.mode&fs.ModeSymlink != 0:
		sl.err = captureError(c.name, "is a symbolic link; make it a regular file")
		return nil
	case s.skip || s.it.hard || !s.it.mode.IsRegular():
		sl.err = captureError(c.name, "is not a regular file")
		return nil
	}
	rc, err := fi.Open()
	if err != nil {
		return fmt.Errorf("read %s: %w", fi.NameInArchive, err)
	}
	defer rc.Close()
	data, err := readCapture(c.name, rc, s.it.size)
	if ie, ok := err.(*inputError); ok {
		sl.err = ie
		return nil
	}
	if err != nil {
		return err
	}
	sl.data = data
	return nil
}

// result picks the candidate at the root of the deployed layout.
func (c *archiveCapture) result(top string, single bool) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	sl := c.root
	if single {
		if c.nestedDir != top {
			return nil, nil
		}
		sl = c.nested
	}
	if !sl.set {
		return nil, nil
	}
	return sl.data, sl.err
}
