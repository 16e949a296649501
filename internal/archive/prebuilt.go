package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/mholt/archives"
)

// scanned is one entry of a prebuilt archive.
type scanned struct {
	raw  string // name as stored
	name string // cleaned: relative, no "./", no trailing slash
	it   item   // name relative to the archive's root (before choosing a top folder)
	skip bool   // not carried over (the root "./" entry, devices, pipes)
}

// buildPrebuilt deploys an archive file: a tar.gz whose entries all sit in one
// top-level folder goes as is; any other archive mholt/archives can read is
// repacked into that layout.
func buildPrebuilt(ctx context.Context, abs string, opts Options) (*Result, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	}
	defer f.Close()
	// Identify by content only (empty name): a misnamed file is still read
	// for what it is, and a text file called app.tar.gz is refused.
	format, _, err := archives.Identify(ctx, "", f)
	if errors.Is(err, archives.NoMatch) {
		return nil, notArchive(opts.Path, nil)
	}
	if err != nil {
		return nil, notArchive(opts.Path, err)
	}
	ex, ok := format.(archives.Extractor)
	if !ok {
		return nil, notArchive(opts.Path, fmt.Errorf("%s data with no archive inside", strings.TrimPrefix(format.Extension(), ".")))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}

	isTarGz := false
	if ca, ok := format.(archives.CompressedArchive); ok {
		_, gz := ca.Compression.(archives.Gz)
		_, tr := ca.Extraction.(archives.Tar)
		isTarGz = gz && tr
	}
	var entries []scanned
	var rawTar int64
	if isTarGz {
		entries, rawTar, err = scanTarGz(ctx, f)
	} else {
		entries, err = scan(ctx, ex, f)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, notArchive(opts.Path, err)
	}

	top, single := singleTopFolder(entries)
	if isTarGz && single && allClean(entries) {
		return sendAsIs(ctx, f, abs, entries, top, rawTar, opts)
	}
	items, err := relayout(entries, top, single, opts)
	if err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if single {
		prefix = top
	}
	var tarSize int64 = endLen
	for i := range items {
		n, err := tarLen(items[i].header(prefix))
		if err != nil {
			return nil, err
		}
		tarSize += n
	}
	largest := largestOf(items)
	if tarSize > opts.MaxSize {
		return nil, &TooLargeError{Size: tarSize, Limit: opts.MaxSize, Largest: largest}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	dir, out, err := newTempFile(opts.TempDir)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: out.Name(), tempDir: dir, Prebuilt: true, Repacked: true, Count: len(items), Largest: largest}
	if err := repack(ctx, ex, f, out, prefix, entries, items, tarSize, res); err != nil {
		res.Remove()
		return nil, err
	}
	if opts.List {
		res.Entries = entriesOf(items)
	}
	return res, nil
}

func notArchive(p string, err error) error {
	return &inputError{msg: fmt.Sprintf("path %s is not a folder nor an archive this tool can read (tar, tar.gz, tar.bz2, tar.xz, tar.zst, zip)", p), err: err}
}

// cleanName turns a stored name into a relative slash path; "" is the root.
func cleanName(raw string) (string, error) {
	n := strings.TrimLeft(raw, "/")
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", fmt.Errorf("entry %q climbs out of the archive", raw)
		}
	}
	n = path.Clean(n)
	if n == "." {
		n = ""
	}
	return n, nil
}

func newScanned(fi archives.FileInfo) (scanned, error) {
	s := scanned{raw: fi.NameInArchive}
	name, err := cleanName(fi.NameInArchive)
	if err != nil {
		return s, err
	}
	s.name = name
	if name == "" {
		s.skip = true
		return s, nil
	}
	mode := fi.Mode()
	s.it = item{name: name, mtime: fi.ModTime().Unix(), mode: mode.Type() | mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)}
	hdr, _ := fi.Header.(*tar.Header)
	switch {
	case hdr != nil && hdr.Typeflag == tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return s, err
		}
		s.it.mode = mode.Perm()
		s.it.hard, s.it.link = true, target
	case mode.IsDir():
	case mode&fs.ModeSymlink != 0:
		s.it.link = fi.LinkTarget
	case mode.IsRegular():
		s.it.size = fi.Size()
	default:
		s.skip = true
	}
	return s, nil
}

func scan(ctx context.Context, ex archives.Extractor, r io.Reader) ([]scanned, error) {
	var out []scanned
	err := ex.Extract(ctx, r, func(ctx context.Context, fi archives.FileInfo) error {
		s, err := newScanned(fi)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// scanTarGz also counts the decompressed bytes: for an archive sent as is,
// that is the size Scalingo will check.
func scanTarGz(ctx context.Context, f *os.File) ([]scanned, int64, error) {
	zr, err := archives.Gz{}.OpenReader(f)
	if err != nil {
		return nil, 0, err
	}
	defer zr.Close()
	cr := &countReader{r: zr}
	out, err := scan(ctx, archives.Tar{}, cr)
	if err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(io.Discard, cr); err != nil { // trailing blocks and record padding
		return nil, 0, err
	}
	return out, cr.n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// singleTopFolder reports whether every entry lies in one folder, and its name.
func singleTopFolder(es []scanned) (string, bool) {
	top := ""
	for _, s := range es {
		if s.name == "" {
			continue
		}
		first, rest, _ := strings.Cut(s.name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return "", false
		}
		if rest == "" && !s.it.isDir() && !s.skip {
			return "", false // a file (or link) at the root
		}
	}
	return top, top != ""
}

// allClean reports whether the stored names already have the expected form.
func allClean(es []scanned) bool {
	for _, s := range es {
		if s.raw != s.name && s.raw != s.name+"/" {
			return false
		}
		if s.skip {
			return false
		}
	}
	return true
}

// relayout turns scanned entries into items below the chosen top folder,
// the top folder first.
func relayout(es []scanned, top string, single bool, opts Options) ([]item, error) {
	items := []item{{name: "", mode: fs.ModeDir | 0o755}}
	var newest int64
	for i := range es {
		s := &es[i]
		if s.skip {
			continue
		}
		it := s.it
		if single {
			if it.name == top {
				items[0].mode, items[0].mtime = fs.ModeDir|it.mode.Perm(), it.mtime
				s.skip = true
				continue
			}
			it.name = strings.TrimPrefix(it.name, top+"/")
			if it.hard {
				it.link = strings.TrimPrefix(it.link, top+"/")
			}
		}
		if opts.SourceDateEpoch != nil && it.mtime > opts.SourceDateEpoch.Unix() {
			it.mtime = opts.SourceDateEpoch.Unix()
		}
		newest = max(newest, it.mtime)
		items = append(items, it)
	}
	if items[0].mtime == 0 {
		items[0].mtime = newest // a made-up top folder: take a time from the content, not the clock
	}
	if opts.SourceDateEpoch != nil && items[0].mtime > opts.SourceDateEpoch.Unix() {
		items[0].mtime = opts.SourceDateEpoch.Unix()
	}
	return items, nil
}

func largestOf(items []item) []Entry {
	dirs := map[string]int64{}
	top := topN{n: largestCount}
	for i := range items {
		it := &items[i]
		if it.name == "" {
			continue
		}
		if it.isDir() {
			if _, ok := dirs[it.name]; !ok {
				dirs[it.name] = 0
			}
			continue
		}
		if !it.mode.IsRegular() || it.hard {
			continue
		}
		top.add(Entry{Name: it.name, Size: it.size})
		for d := path.Dir(it.name); d != "."; d = path.Dir(d) {
			dirs[d] += it.size
		}
	}
	for d, n := range dirs {
		top.add(Entry{Name: d + "/", Size: n, Dir: true})
	}
	return top.es
}

// sendAsIs checks and describes a tar.gz that already has the expected layout.
func sendAsIs(ctx context.Context, f *os.File, abs string, es []scanned, top string, rawTar int64, opts Options) (*Result, error) {
	items := make([]item, 0, len(es))
	for _, s := range es {
		it := s.it
		if it.name == top {
			continue
		}
		it.name = strings.TrimPrefix(it.name, top+"/")
		items = append(items, it)
	}
	largest := largestOf(items)
	if rawTar > opts.MaxSize {
		return nil, &TooLargeError{Size: rawTar, Limit: opts.MaxSize, Largest: largest}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Path: abs, Size: n, UncompressedSize: rawTar, Count: len(es), SHA256: hex.EncodeToString(h.Sum(nil)),
		Largest: largest, Prebuilt: true}
	if opts.List {
		res.Entries = entriesOf(items)
	}
	return res, nil
}

func repack(ctx context.Context, ex archives.Extractor, in io.Reader, out *os.File, prefix string, es []scanned, items []item, tarSize int64, res *Result) error {
	t, err := newTarGz(out)
	if err != nil {
		out.Close()
		return err
	}
	if err := t.writeHeader(items[0].header(prefix)); err != nil {
		t.abort()
		return err
	}
	k, next := 0, 1 // index into es, and the next item to write
	err = ex.Extract(ctx, in, func(ctx context.Context, fi archives.FileInfo) error {
		if k >= len(es) {
			return fmt.Errorf("archive changed while being read")
		}
		s := &es[k]
		k++
		if s.skip {
			return nil
		}
		it := &items[next]
		next++
		if err := t.writeHeader(it.header(prefix)); err != nil {
			return err
		}
		if !it.mode.IsRegular() || it.hard || it.size == 0 {
			return nil
		}
		rc, err := fi.Open()
		if err != nil {
			return fmt.Errorf("read %s: %w", fi.NameInArchive, err)
		}
		defer rc.Close()
		return t.copyFile(ctx, fi.NameInArchive, rc, it.size)
	})
	if err != nil {
		t.abort()
		return fmt.Errorf("repack archive: %w", err)
	}
	compressed, raw, sum, err := t.finish()
	if err != nil {
		return err
	}
	if raw != tarSize {
		return fmt.Errorf("repack: wrote %d tar bytes, planned %d", raw, tarSize)
	}
	res.Size, res.UncompressedSize, res.SHA256 = compressed, raw, sum
	return nil
}
