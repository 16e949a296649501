package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	gitDir         = ".git"
	gitignoreFile  = ".gitignore"
	scalingoIgnore = ".scalingoignore"
	largestCount   = 10
)

// The tree is walked twice, the same way: once to plan (sizes, the largest
// entries, the size guard, before anything is written) and once to write.
// Holding the plan in memory instead would make memory grow with the file
// count; two walks keep it flat, and the second costs little next to
// compression. A tree that changes in between is caught by comparing the tar
// size written with the size planned.

// treePlan is the outcome of the first walk.
type treePlan struct {
	count   int
	files   int // entries that are not folders
	tarSize int64
	largest topN
	items   []item // only when Options.List
	empty   error  // why there is no file, when files == 0
}

// walker visits the entries of a tree in archive order under the ignore rules.
type walker struct {
	ctx    context.Context
	root   string
	sde    *time.Time
	rules  ruleStack
	useGit bool // .gitignore files apply (no .scalingoignore at the root)
	top    item
	// visit is called for each entry, a folder before what it holds;
	// leave after a folder's content, with the sum of the file sizes below it.
	visit func(it *item) error
	leave func(it *item, total int64)

	skip      []string      // Options.Skip, absolute
	skipInfo  []fs.FileInfo // the files of skip that exist, to know them under another name
	ignored   bool          // some entry was left out
	rootRule  *pattern      // the one rule that left out every entry of the root, if there is one
	rootMixed bool          // entries of the root were kept, or left out by different rules
}

func newWalker(ctx context.Context, root string, opts Options) (*walker, error) {
	w := &walker{ctx: ctx, root: root, sde: opts.SourceDateEpoch}
	w.rules.excludes = parseExcludes(opts.Exclude)
	rootInfo, err := os.Stat(root)
	if err != nil {
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	}
	w.top = item{name: "", mode: normMode(fs.ModeDir), mtime: w.clamp(rootInfo.ModTime())}
	for _, p := range opts.Skip {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("skip %s: %w", p, err)
		}
		w.skip = append(w.skip, abs)
		if st, err := os.Stat(abs); err == nil {
			w.skipInfo = append(w.skipInfo, st)
		}
	}
	return w, nil
}

// run walks the whole tree, the top folder first.
func (w *walker) run() error {
	scalingo, err := readIgnoreFile(w.root, scalingoIgnore)
	if err != nil {
		return err
	}
	w.useGit = scalingo == nil
	var rootRules []pattern
	if !w.useGit {
		rootRules = parseIgnoreFile(scalingo, "", filepath.Join(w.root, scalingoIgnore))
	} else if err := w.readAncestors(); err != nil {
		return err
	}
	top := w.top
	if err := w.visit(&top); err != nil {
		return err
	}
	_, err = w.walk(w.root, "", rootRules)
	return err
}

// readAncestors loads the .gitignore files between the top of the git
// checkout holding the root (the nearest folder above it with a .git) and the
// root, when the root is not itself the top of a checkout.
func (w *walker) readAncestors() error {
	if _, err := os.Lstat(filepath.Join(w.root, gitDir)); err == nil {
		return nil
	}
	var dirs []string // from the root's parent upwards
	top := ""
	for d := filepath.Dir(w.root); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if _, err := os.Lstat(filepath.Join(d, gitDir)); err == nil {
			top = d
			break
		}
		if d == filepath.Dir(d) {
			return nil // not inside a checkout
		}
	}
	rel, err := filepath.Rel(top, w.root)
	if err != nil {
		return nil
	}
	w.rules.rootRel = filepath.ToSlash(rel)
	for i := len(dirs) - 1; i >= 0; i-- {
		data, err := readIgnoreFile(dirs[i], gitignoreFile)
		if err != nil {
			return err
		}
		base, _ := filepath.Rel(top, dirs[i])
		if base == "." {
			base = ""
		}
		w.rules.ancestors = append(w.rules.ancestors, parseIgnoreFile(data, filepath.ToSlash(base), filepath.Join(dirs[i], gitignoreFile))...)
	}
	return nil
}

func buildTree(ctx context.Context, root string, opts Options) (*Result, error) {
	tmpParent := opts.TempDir
	if tmpParent == "" {
		tmpParent = os.TempDir()
	}
	if within(tmpParent, root) {
		return nil, &inputError{msg: fmt.Sprintf("the temp dir %s is inside the path %s; point TMPDIR outside it", tmpParent, opts.Path)}
	}
	pl, err := planTree(ctx, root, opts)
	if err != nil {
		return nil, err
	}
	if pl.files == 0 {
		return nil, pl.empty
	}
	if pl.tarSize > opts.MaxSize {
		return nil, &TooLargeError{Size: pl.tarSize, Limit: opts.MaxSize, Largest: pl.largest.es}
	}
	f, err := newTempFile(tmpParent)
	if err != nil {
		return nil, err
	}
	res := &Result{File: f, Count: pl.count, Largest: pl.largest.es}
	if err := writeTree(ctx, f, root, opts, pl, res); err != nil {
		res.Close()
		return nil, err
	}
	if opts.List {
		res.Entries = entriesOf(pl.items)
	}
	return res, nil
}

func entriesOf(items []item) []Entry {
	es := make([]Entry, 0, len(items))
	for i := range items {
		if items[i].name == "" {
			continue
		}
		e := Entry{Name: items[i].name, Size: items[i].size, Dir: items[i].isDir()}
		if e.Dir {
			e.Name += "/"
		}
		es = append(es, e)
	}
	return es
}

// within reports whether path is root or lies below it, symlinks resolved.
func within(path, root string) bool {
	p, err1 := filepath.EvalSymlinks(path)
	r, err2 := filepath.EvalSymlinks(root)
	if err1 != nil || err2 != nil {
		p, r = filepath.Clean(path), filepath.Clean(root)
	}
	rel, err := filepath.Rel(r, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// planTree walks root under the ignore rules, summing sizes without reading
// file contents, so that an oversize tree fails fast.
func planTree(ctx context.Context, root string, opts Options) (*treePlan, error) {
	w, err := newWalker(ctx, root, opts)
	if err != nil {
		return nil, err
	}
	pl := &treePlan{tarSize: endLen, largest: topN{n: largestCount}}
	w.visit = func(it *item) error {
		n, err := tarLen(it.header(topFolder))
		if err != nil {
			return err
		}
		pl.tarSize += n
		pl.count++
		if !it.isDir() {
			pl.files++
		}
		if it.mode.IsRegular() {
			pl.largest.add(Entry{Name: it.name, Size: it.size})
		}
		if opts.List {
			pl.items = append(pl.items, *it)
		}
		return nil
	}
	w.leave = func(it *item, total int64) {
		pl.largest.add(Entry{Name: it.name + "/", Size: total, Dir: true})
	}
	if err := w.run(); err != nil {
		return nil, err
	}
	if pl.files == 0 {
		pl.empty = w.emptyError(opts.Path)
	}
	return pl, nil
}

// emptyError says why a tree gives an archive with no file, naming the rule
// that left out the whole root when one did.
func (w *walker) emptyError(path string) error {
	if !w.ignored {
		return &inputError{msg: fmt.Sprintf("path %s holds no file to deploy", path)}
	}
	msg := fmt.Sprintf("path %s: every file is ignored, nothing to deploy", path)
	if p := w.rootRule; p != nil && !w.rootMixed {
		where := fmt.Sprintf("%s line %d", p.file, p.line)
		if p.file == "" {
			where = fmt.Sprintf("the exclude input, pattern %d", p.line)
		}
		msg += fmt.Sprintf(" (the rule %q in %s leaves out everything at the root)", p.text, where)
	}
	return &inputError{msg: msg}
}

// skipped reports whether the entry at abs is one of Options.Skip.
func (w *walker) skipped(abs string, info fs.FileInfo) bool {
	for _, s := range w.skip {
		if s == abs {
			return true
		}
	}
	for _, s := range w.skipInfo {
		if os.SameFile(s, info) {
			return true
		}
	}
	return false
}

// readIgnoreFile returns the content of dir/name, or nil when it is absent.
// Like git (2.32+), it does not follow a symlinked ignore file.
func readIgnoreFile(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

func (w *walker) clamp(t time.Time) int64 {
	if w.sde != nil && t.After(*w.sde) {
		t = *w.sde
	}
	return t.Unix()
}

// walk visits the entries below the folder abs (rel inside the tree) and
// returns the sum of the file sizes below it. rules are the folder's own
// ignore rules when already known (the root's .scalingoignore).
func (w *walker) walk(abs, rel string, rules []pattern) (int64, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	des, err := os.ReadDir(abs) // sorted by name
	if err != nil {
		return 0, fmt.Errorf("read folder %s: %w", abs, err)
	}
	if w.useGit {
		for _, de := range des {
			if de.Name() == gitignoreFile {
				data, err := readIgnoreFile(abs, gitignoreFile)
				if err != nil {
					return 0, err
				}
				rules = parseIgnoreFile(data, rel, filepath.Join(abs, gitignoreFile))
				break
			}
		}
	}
	w.rules.push(rules)
	defer w.rules.pop()

	var total int64
	for _, de := range des {
		name := de.Name()
		if name == gitDir {
			continue // a repository or a submodule's .git file: never shipped
		}
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		ign, by := w.rules.ignored(childRel, name, de.Type().IsDir())
		if rel == "" {
			switch {
			case !ign:
				w.rootMixed = true
			case w.rootRule == nil:
				w.rootRule = by
			case w.rootRule != by:
				w.rootMixed = true
			}
		}
		if ign {
			w.ignored = true
			continue
		}
		info, err := de.Info() // lstat: symlinks are never followed
		if errors.Is(err, fs.ErrNotExist) {
			continue // vanished since ReadDir
		}
		if err != nil {
			return 0, fmt.Errorf("stat %s: %w", filepath.Join(abs, name), err)
		}
		if len(w.skip) > 0 && w.skipped(filepath.Join(abs, name), info) {
			w.ignored = true
			if rel == "" {
				w.rootMixed = true
			}
			continue
		}
		mode := info.Mode()
		it := item{name: childRel, mtime: w.clamp(info.ModTime()), mode: normMode(mode)}
		switch {
		case mode.IsDir():
			if err := w.visit(&it); err != nil {
				return 0, err
			}
			sub, err := w.walk(filepath.Join(abs, name), childRel, nil)
			if err != nil {
				return 0, err
			}
			total += sub
			if w.leave != nil {
				w.leave(&it, sub)
			}
		case mode.IsRegular():
			it.size = info.Size()
			if err := w.visit(&it); err != nil {
				return 0, err
			}
			total += it.size
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(abs, name))
			if err != nil {
				return 0, fmt.Errorf("read symlink %s: %w", filepath.Join(abs, name), err)
			}
			it.link = target
			if err := w.visit(&it); err != nil {
				return 0, err
			}
		default:
			// Sockets, pipes and devices cannot be deployed; git skips them too.
		}
	}
	return total, nil
}

func writeTree(ctx context.Context, f *os.File, root string, opts Options, pl *treePlan, res *Result) error {
	t, err := newTarGz(f)
	if err != nil {
		return err
	}
	w, err := newWalker(ctx, root, opts)
	if err != nil {
		t.abort()
		return err
	}
	w.visit = func(it *item) error {
		keep, err := treeCapture(opts.Capture, it)
		if err != nil {
			return err
		}
		if err := t.writeHeader(it.header(topFolder)); err != nil {
			return err
		}
		var tee *captureTee
		if keep {
			tee = &captureTee{}
		}
		if it.mode.IsRegular() && it.size > 0 {
			if err := copyFromDisk(ctx, t, root, it, tee); err != nil {
				return err
			}
		}
		if keep {
			res.Captured = append([]byte{}, tee.buf.Bytes()...)
		}
		return nil
	}
	if err := w.run(); err != nil {
		t.abort()
		return err
	}
	compressed, raw, sum, err := t.finish()
	if err != nil {
		return err
	}
	if raw != pl.tarSize {
		return fmt.Errorf("write archive: wrote %d tar bytes, planned %d: the tree changed while being archived", raw, pl.tarSize)
	}
	res.Size, res.UncompressedSize, res.SHA256 = compressed, raw, sum
	return nil
}

// copyFromDisk writes one file's content; tee, when set, keeps a copy of it.
func copyFromDisk(ctx context.Context, t *tarGz, root string, it *item, tee *captureTee) error {
	path := filepath.Join(root, filepath.FromSlash(it.name))
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", it.name, err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if tee != nil {
		r = io.TeeReader(fh, &tee.buf)
	}
	if err := t.copyFile(ctx, it.name, r, it.size); err != nil {
		return err
	}
	// A file that grew would be cut short silently; say so instead.
	var one [1]byte
	if n, _ := fh.Read(one[:]); n > 0 {
		return fmt.Errorf("read %s: file grew while being archived", it.name)
	}
	return nil
}
