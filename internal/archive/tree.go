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

const (
	gitDir         = ".git"
	gitignoreFile  = ".gitignore"
	scalingoIgnore = ".scalingoignore"
	largestCount   = 10
)

// treePlan is the outcome of walking the tree: what goes in, and how big the tar will be.
type treePlan struct {
	items   []item // archive order; items[0] is the top folder
	tarSize int64
	largest topN
}

type planner struct {
	ctx    context.Context
	root   string
	prefix string
	sde    *time.Time
	rules  ruleStack
	useGit bool // .gitignore files apply (no .scalingoignore at the root)
	plan   *treePlan
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
	if pl.tarSize > opts.MaxSize {
		return nil, &TooLargeError{Size: pl.tarSize, Limit: opts.MaxSize, Largest: pl.largest.es}
	}
	dir, f, err := newTempFile(tmpParent)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: f.Name(), tempDir: dir, Count: len(pl.items), Largest: pl.largest.es}
	if err := writeTree(ctx, f, root, opts.Prefix, pl, res); err != nil {
		res.Remove()
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
		es = append(es, Entry{Name: items[i].name, Size: items[i].size, Dir: items[i].isDir()})
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

// planTree walks root under the ignore rules, gathering entries and sizes
// without reading file contents, so an oversize tree fails fast.
func planTree(ctx context.Context, root string, opts Options) (*treePlan, error) {
	p := &planner{ctx: ctx, root: root, prefix: opts.Prefix, sde: opts.SourceDateEpoch,
		plan: &treePlan{tarSize: endLen, largest: topN{n: largestCount}}}
	p.rules.excludes = parseExcludes(opts.Exclude)
	rootInfo, err := os.Stat(root)
	if err != nil {
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	}
	scalingo, err := readIgnoreFile(root, scalingoIgnore)
	if err != nil {
		return nil, err
	}
	p.useGit = scalingo == nil
	if err := p.add(item{name: "", mode: fs.ModeDir | rootInfo.Mode().Perm(), mtime: p.clamp(rootInfo.ModTime())}); err != nil {
		return nil, err
	}
	var rootRules []pattern
	if !p.useGit {
		rootRules = parseIgnoreFile(scalingo, "")
	}
	if _, err := p.walk(root, "", rootRules, true); err != nil {
		return nil, err
	}
	return p.plan, nil
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

func (p *planner) clamp(t time.Time) int64 {
	if p.sde != nil && t.After(*p.sde) {
		t = *p.sde
	}
	return t.Unix()
}

func (p *planner) add(it item) error {
	n, err := tarLen(it.header(p.prefix))
	if err != nil {
		return err
	}
	p.plan.tarSize += n
	p.plan.items = append(p.plan.items, it)
	return nil
}

// walk adds the entries below the folder abs (rel inside the tree) and returns
// the sum of the file sizes below it. rules are the folder's own ignore rules
// when already known (the root's .scalingoignore).
func (p *planner) walk(abs, rel string, rules []pattern, isRoot bool) (int64, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	des, err := os.ReadDir(abs) // sorted by name
	if err != nil {
		return 0, fmt.Errorf("read folder %s: %w", abs, err)
	}
	if p.useGit {
		for _, de := range des {
			if de.Name() == gitignoreFile {
				data, err := readIgnoreFile(abs, gitignoreFile)
				if err != nil {
					return 0, err
				}
				rules = parseIgnoreFile(data, rel)
				break
			}
		}
	}
	p.rules.push(rules)
	defer p.rules.pop()

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
		isDir := de.Type().IsDir()
		if p.rules.ignored(childRel, name, isDir) {
			continue
		}
		info, err := de.Info() // lstat: symlinks are never followed
		if errors.Is(err, fs.ErrNotExist) {
			continue // vanished since ReadDir
		}
		if err != nil {
			return 0, fmt.Errorf("stat %s: %w", filepath.Join(abs, name), err)
		}
		mode := info.Mode()
		it := item{name: childRel, mtime: p.clamp(info.ModTime()), mode: mode.Type() | mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)}
		switch {
		case mode.IsDir():
			if err := p.add(it); err != nil {
				return 0, err
			}
			sub, err := p.walk(filepath.Join(abs, name), childRel, nil, false)
			if err != nil {
				return 0, err
			}
			total += sub
			p.plan.largest.add(Entry{Name: childRel + "/", Size: sub, Dir: true})
		case mode.IsRegular():
			it.size = info.Size()
			if err := p.add(it); err != nil {
				return 0, err
			}
			total += it.size
			p.plan.largest.add(Entry{Name: childRel, Size: it.size})
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(abs, name))
			if err != nil {
				return 0, fmt.Errorf("read symlink %s: %w", filepath.Join(abs, name), err)
			}
			it.link = target
			if err := p.add(it); err != nil {
				return 0, err
			}
		default:
			// Sockets, pipes and devices cannot be deployed; git skips them too.
		}
	}
	return total, nil
}

func writeTree(ctx context.Context, f *os.File, root, prefix string, pl *treePlan, res *Result) error {
	t, err := newTarGz(f)
	if err != nil {
		f.Close()
		return err
	}
	for i := range pl.items {
		it := &pl.items[i]
		if err := t.writeHeader(it.header(prefix)); err != nil {
			t.abort()
			return err
		}
		if it.mode.IsRegular() && it.size > 0 {
			if err := copyFromDisk(ctx, t, root, it); err != nil {
				t.abort()
				return err
			}
		}
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

func copyFromDisk(ctx context.Context, t *tarGz, root string, it *item) error {
	path := filepath.Join(root, filepath.FromSlash(it.name))
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", it.name, err)
	}
	defer fh.Close()
	if err := t.copyFile(ctx, it.name, fh, it.size); err != nil {
		return err
	}
	// A file that grew would be cut short silently; say so instead.
	var one [1]byte
	if n, _ := fh.Read(one[:]); n > 0 {
		return fmt.Errorf("read %s: file grew while being archived", it.name)
	}
	return nil
}
