// Package gitref finds the commit checked out in a git work tree without running git:
// the image ships no git binary, and outside a CI the HEAD commit is the best default
// git ref. Everything in the repository is untrusted (a pull request writes the tree),
// so every file read is bounded, every ref name is checked, and no read leaves the git
// directory it belongs to.
package gitref

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrNotRepo is returned when no git directory holds the path.
var ErrNotRepo = errors.New("not inside a git work tree")

// ErrNoCommit is returned when HEAD names a branch that has no commit yet (a fresh
// git init), so there is no commit to name.
var ErrNoCommit = errors.New("HEAD names a branch with no commit yet")

// ErrUnsupported is returned for a repository whose refs git keeps in the reftable
// format, which this package does not read.
var ErrUnsupported = errors.New("the repository keeps its refs in the reftable format, which is not supported")

const (
	// maxSmall bounds HEAD, loose refs, .git files and commondir: each holds one line,
	// at most a path or a ref name.
	maxSmall = 16 << 10
	// maxPackedRefs bounds packed-refs. It is scanned line by line, so this bounds time,
	// not memory: a repository with a million tags stays well under it.
	maxPackedRefs = 512 << 20
	// maxLine bounds one packed-refs line (an object id and a ref name).
	maxLine = 64 << 10
	// maxHops bounds chains of symbolic refs, as git's SYMREF_MAXDEPTH does.
	maxHops = 5
)

// Head returns the full object id (40 hex digits, or 64 in a SHA-256 repository) of the
// commit checked out in the git work tree holding path (a folder or a file). It walks up
// from path to the nearest .git: a folder, or a file "gitdir: …" as a linked worktree or
// a submodule has. Errors wrap ErrNotRepo, ErrNoCommit or ErrUnsupported when they apply.
func Head(path string) (string, error) {
	start, err := startDir(path)
	if err != nil {
		return "", err
	}
	r, err := find(start)
	if err != nil {
		return "", fmt.Errorf("find the git repository of %s: %w", start, err)
	}
	defer r.close()
	sha, err := r.head()
	if err != nil {
		return "", fmt.Errorf("read HEAD of the git repository %s: %w", r.dir.Name(), err)
	}
	return sha, nil
}

// startDir is the folder to search from: path itself, or the folder of a file. Symlinks
// are resolved, as git works from the physical directory.
func startDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("find the git repository of %s: %w", path, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	return abs, nil
}

// repo is a git directory opened as roots: no name opened through them can leave them,
// by "..", an absolute path or a symlink.
type repo struct {
	dir    *os.Root // the git directory: HEAD and per-worktree refs
	common *os.Root // the common directory (the main .git of a linked worktree), or dir
}

func (r *repo) close() {
	if r.common != r.dir {
		r.common.Close()
	}
	r.dir.Close()
}

// find walks up from dir to the first .git that makes a repository.
func find(dir string) (*repo, error) {
	for {
		dot := filepath.Join(dir, ".git")
		fi, err := os.Lstat(dot)
		switch {
		case err == nil && fi.IsDir():
			// Like git, a .git folder without HEAD is not a repository: keep looking. One
			// with a HEAD of any kind is, and reading it says what is wrong.
			if _, err := os.Lstat(filepath.Join(dot, "HEAD")); err == nil {
				return open(dot)
			}
		case err == nil && fi.Mode().IsRegular():
			gitdir, err := gitFile(dir, dot)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", dot, err)
			}
			return open(gitdir)
		case err == nil:
			// A symlinked .git could point anywhere on the machine: refused, not followed.
			return nil, fmt.Errorf("%s is not a folder or a file; not followed", dot)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return nil, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, ErrNotRepo
		}
		dir = parent
	}
}

// gitFile reads a .git file ("gitdir: <path>"), as a linked worktree or a submodule has;
// a relative path is relative to the folder holding the file.
func gitFile(dir, name string) (string, error) {
	b, err := readSmall(nil, name)
	if err != nil {
		return "", err
	}
	p, ok := strings.CutPrefix(strings.TrimRight(string(b), "\r\n"), "gitdir:")
	p = strings.TrimSpace(p)
	if !ok || p == "" || strings.ContainsAny(p, "\x00\n") {
		return "", errors.New(`not a "gitdir: <path>" line`)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p, nil
}

// open opens the git directory and, for a linked worktree, the common directory that
// its commondir file names.
func open(gitdir string) (*repo, error) {
	dir, err := os.OpenRoot(gitdir)
	if err != nil {
		return nil, fmt.Errorf("open the git directory: %w", err)
	}
	r := &repo{dir: dir, common: dir}
	b, err := readSmall(dir, "commondir")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		dir.Close()
		return nil, fmt.Errorf("read commondir in %s: %w", gitdir, err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" || strings.ContainsAny(p, "\x00\n") {
		dir.Close()
		return nil, fmt.Errorf("read commondir in %s: not a path", gitdir)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(gitdir, p)
	}
	if r.common, err = os.OpenRoot(p); err != nil {
		dir.Close()
		return nil, fmt.Errorf("open the common git directory: %w", err)
	}
	return r, nil
}

// head follows HEAD through symbolic refs to an object id.
func (r *repo) head() (string, error) {
	name := "HEAD"
	for range maxHops {
		b, err := r.loose(name)
		if errors.Is(err, fs.ErrNotExist) {
			if name == "HEAD" {
				return "", errors.New("no HEAD file")
			}
			sha, err := r.packed(name)
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%w (%s)", ErrNoCommit, name)
			}
			return sha, err
		}
		if err != nil {
			return "", err
		}
		line := strings.TrimRight(string(b), "\r\n\t ")
		target, isRef := strings.CutPrefix(line, "ref:")
		if !isRef {
			if !isObjectID(line) {
				return "", fmt.Errorf("%s holds neither an object id nor a ref", name)
			}
			return line, nil
		}
		target = strings.TrimLeft(target, " \t")
		if target == "refs/heads/.invalid" {
			// What git writes in HEAD for tools that do not know reftable.
			return "", ErrUnsupported
		}
		if !validRef(target) {
			// The name is untrusted text: not repeated.
			return "", fmt.Errorf("%s names an invalid ref", name)
		}
		name = target
	}
	return "", fmt.Errorf("more than %d symbolic refs in a row", maxHops)
}

// perWorktree reports whether a ref lives in a linked worktree's own git directory
// rather than in the common one.
func perWorktree(name string) bool {
	return name == "HEAD" || strings.HasPrefix(name, "refs/worktree/") ||
		strings.HasPrefix(name, "refs/bisect/") || strings.HasPrefix(name, "refs/rewritten/")
}

// loose reads a ref's file. A folder where the file would be (refs/heads/a when
// refs/heads/a/b exists in packed-refs) counts as no file.
func (r *repo) loose(name string) ([]byte, error) {
	root := r.common
	if perWorktree(name) {
		root = r.dir
	}
	b, err := readSmall(root, filepath.FromSlash(name))
	if errors.Is(err, errIsDir) {
		return nil, fs.ErrNotExist
	}
	return b, err
}

// packed looks name up in packed-refs, skipping the header and peeled ("^") lines.
func (r *repo) packed(name string) (string, error) {
	f, err := openRegular(r.common, "packed-refs")
	if err != nil {
		return "", err
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: maxPackedRefs + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		sha, ref, ok := strings.Cut(line, " ")
		if ok && ref == name {
			if !isObjectID(sha) {
				return "", fmt.Errorf("packed-refs holds no object id for %s", name)
			}
			return sha, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read packed-refs: %w", err)
	}
	if lr.N <= 0 {
		return "", fmt.Errorf("read packed-refs: larger than %d bytes", maxPackedRefs)
	}
	return "", fs.ErrNotExist
}

var errIsDir = errors.New("is a folder")

// openRegular opens name inside root (or anywhere, for a nil root) if it is a regular
// file: a FIFO would block the open, a device would never end.
func openRegular(root *os.Root, name string) (*os.File, error) {
	stat, open := os.Stat, os.Open
	if root != nil {
		stat, open = root.Stat, root.Open
	}
	fi, err := stat(name)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errIsDir
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return open(name)
}

// readSmall reads a one-line file of at most maxSmall bytes.
func readSmall(root *os.Root, name string) ([]byte, error) {
	f, err := openRegular(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSmall+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSmall {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxSmall)
	}
	return b, nil
}

// isObjectID accepts a SHA-1 (40) or SHA-256 (64) object id as git writes it: lower-case
// hex, and not the all-zero id git uses for "no object".
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	zero := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '0':
		case c >= '1' && c <= '9', c >= 'a' && c <= 'f':
			zero = false
		default:
			return false
		}
	}
	return !zero
}

// validRef applies git's check-ref-format rules to a symbolic ref's target, which must
// lie under refs/. Above all it keeps the name inside the git directory: no "..", no
// absolute path, no empty or dot-led component.
func validRef(name string) bool {
	rest, ok := strings.CutPrefix(name, "refs/")
	if !ok || rest == "" || len(name) > 1024 || strings.HasSuffix(name, ".lock") ||
		strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	for part := range strings.SplitSeq(rest, "/") {
		if part == "" || part[0] == '.' || strings.HasSuffix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
