// Package archive builds the tar.gz that is uploaded to Scalingo: a folder
// archived under git's ignore rules, or a prebuilt archive deployed as is or
// repacked into the layout Scalingo expects.
//
// Layout of every archive Build writes: one top-level folder ("app", or a
// prebuilt archive's own folder) whose own entry comes first; below it the tree walked
// depth-first, each folder's entries sorted by name (bytewise); no "./"
// prefix; uid/gid 0 and no user or group names; mtimes in whole seconds
// (clamped to SourceDateEpoch when set); no atime/ctime records; a gzip header
// without name or time; modes normalised as git archive does (files 0644, or
// 0755 when the owner may execute them; folders 0755; symlinks 0777; never
// setuid, setgid or sticky). The same tree therefore gives the same bytes,
// whatever the umask of the checkout.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultMaxSize is Scalingo's limit on the uncompressed tar: 300 MiB.
const DefaultMaxSize = 314_572_800

// topFolder names the top-level folder of an archive built from a tree.
// Scalingo strips that folder, so its name only matters for reproducibility:
// a constant keeps the archive identical wherever the checkout lives.
const topFolder = "app"

// Options says what to archive and how.
type Options struct {
	Path    string   // a folder (archived) or an archive file (deployed as is, or repacked)
	Exclude []string // extra gitignore patterns, anchored at Path, checked before any ignore file
	MaxSize int64    // limit on the uncompressed tar; 0 = DefaultMaxSize
	TempDir string   // parent of the private temp dir; "" = os.TempDir()
	// Skip lists files never archived, whatever the ignore rules say: the
	// tool's own output file, when it lies in the tree. Relative paths are
	// taken from the working directory.
	Skip []string
	// SourceDateEpoch, when set, clamps every mtime to at most this time.
	SourceDateEpoch *time.Time
	List            bool // keep every entry in Result.Entries
	// Capture names a file at the root of the deployed tree (e.g. "scalingo.json") to
	// keep in Result.Captured, read while the tree or archive is read anyway.
	Capture string
}

// Entry is one file, folder or symlink of the archive.
type Entry struct {
	Name string // relative to the top-level folder, slash-separated; folders end in "/"
	Size int64  // file size; for a folder in Result.Largest, the sum of the file sizes below it (0 in Entries)
	Dir  bool
}

// Result describes the archive that was built.
type Result struct {
	// File is the .tar.gz to upload, Size bytes from offset 0: read it with
	// ReadAt (io.NewSectionReader(File, 0, Size)), as many times as needed.
	// A built or repacked archive is a temp file already unlinked (along with
	// its private temp dir) when Build returns, so that no exit path, SIGKILL
	// included, leaves it behind. For a prebuilt archive sent as is
	// (Prebuilt && !Repacked) it is the input file, opened for reading.
	File *os.File
	Size int64 // compressed bytes
	// UncompressedSize is the size of the uncompressed tar stream (headers,
	// padding and end blocks included): the figure Scalingo checks against its
	// limit, and the one compared with Options.MaxSize.
	UncompressedSize int64
	Count            int    // entries in the archive, the top-level folder included
	SHA256           string // hex digest of the file at Path
	Largest          []Entry
	Entries          []Entry // every entry but the top folder, in archive order, only when Options.List
	Repacked         bool    // a prebuilt archive was rewritten into the expected layout
	Prebuilt         bool    // Options.Path named an archive rather than a folder
	// Captured is the content of Options.Capture as deployed (at most MaxCapture bytes;
	// larger is invalid input), or nil when the archive has no such file.
	Captured []byte
}

// Close releases File. It is safe to call more than once.
func (r *Result) Close() error {
	if r == nil || r.File == nil {
		return nil
	}
	f := r.File
	r.File = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("close the archive: %w", err)
	}
	return nil
}

// TooLargeError reports an archive over the size limit; nothing was uploaded.
type TooLargeError struct {
	Size, Limit int64
	Largest     []Entry
	// Partial: reading stopped at the limit, so Size is what was counted
	// by then (or announced by the entries seen), not the whole.
	Partial bool
}

func (e *TooLargeError) Error() string {
	var b strings.Builder
	more := ""
	if e.Partial {
		more = "more than "
	}
	fmt.Fprintf(&b, "archive too large: %s%s uncompressed (%d bytes), over the limit of %s (%d bytes)",
		more, humanSize(e.Size), e.Size, humanSize(e.Limit), e.Limit)
	if len(e.Largest) > 0 {
		b.WriteString("\nlargest files and folders:")
		for _, en := range e.Largest {
			fmt.Fprintf(&b, "\n  %10s  %s", humanSize(en.Size), en.Name)
		}
	}
	b.WriteString("\nleave what the app does not need out with a .scalingoignore at the root of the path " +
		"(gitignore syntax; it replaces .gitignore) or the exclude input, " +
		"or raise max-size if Scalingo raised your account's limit")
	return b.String()
}

// inputError is a bad path or file: the caller exits with status 2.
type inputError struct {
	msg string
	err error
}

func (e *inputError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}
func (e *inputError) Unwrap() error      { return e.err }
func (e *inputError) InvalidInput() bool { return true }

// Build archives opts.Path into a temp file, or checks and if needed repacks
// the archive it names. The caller must call Result.Close when done.
func Build(ctx context.Context, opts Options) (*Result, error) {
	if opts.Path == "" {
		return nil, &inputError{msg: "archive: no path given"}
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if err := checkCapture(opts.Capture); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &inputError{msg: fmt.Sprintf("path %s does not exist", opts.Path)}
	case err != nil:
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	case st.IsDir():
		return buildTree(ctx, abs, opts)
	case st.Mode().IsRegular():
		return buildPrebuilt(ctx, abs, opts)
	default:
		return nil, &inputError{msg: fmt.Sprintf("path %s is neither a folder nor an archive file", opts.Path)}
	}
}

// newTempFile creates the archive file in a private temp dir and unlinks both
// at once: from then on only the descriptor holds the data, and the kernel
// frees it however the process ends.
func newTempFile(parent string) (*os.File, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "scalingo-deploy-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "source.tar.gz"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create archive file: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("unlink the temp archive: %w", err)
	}
	return f, nil
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
