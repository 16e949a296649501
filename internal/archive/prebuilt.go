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
// repacked into that layout. The archive is untrusted: its decompressed
// stream is counted as it is read and reading stops at the size limit, and
// links that would let an extraction write outside its folder are refused.
func buildPrebuilt(ctx context.Context, abs string, opts Options) (_ *Result, err error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, &inputError{msg: fmt.Sprintf("path %s", opts.Path), err: err}
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
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

	isTarGz := false
	if ca, ok := format.(archives.CompressedArchive); ok {
		_, gz := ca.Compression.(archives.Gz)
		_, tr := ca.Extraction.(archives.Tar)
		isTarGz = gz && tr
	}
	capture := &archiveCapture{name: opts.Capture}
	entries, rawTar, err := scanArchive(ctx, format, ex, f, opts.MaxSize, isTarGz, capture)
	if err != nil {
		return nil, scanError(ctx, opts, entries, err)
	}
	if err := checkLinks(opts.Path, entries); err != nil {
		return nil, err
	}
	if err := checkHasFile(opts.Path, entries); err != nil {
		return nil, err
	}

	top, single := singleTopFolder(entries)
	captured, err := capture.result(top, single)
	if err != nil {
		return nil, err
	}
	if isTarGz && single && allClean(entries) {
		res, err := sendAsIs(ctx, f, abs, entries, top, rawTar, opts)
		if res != nil {
			res.Captured = captured
		}
		return res, err
	}
	items, err := relayout(entries, top, single, opts)
	if err != nil {
		return nil, err
	}
	prefix := topFolder
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
	out, err := newTempFile(opts.TempDir)
	if err != nil {
		return nil, err
	}
	res := &Result{File: out, Prebuilt: true, Repacked: true, Count: len(items), Largest: largest, Captured: captured}
	if err := repack(ctx, format, ex, f, opts.MaxSize, out, prefix, entries, items, tarSize, res); err != nil {
		res.Close()
		return nil, err
	}
	f.Close()
	if opts.List {
		res.Entries = entriesOf(items)
	}
	return res, nil
}

// errOverLimit stops a read that went past Options.MaxSize.
var errOverLimit = errors.New("over the size limit")

// scanError turns a failed scan into what the caller is told.
func scanError(ctx context.Context, opts Options, partial []scanned, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var over *overLimit
	if errors.As(err, &over) {
		items := make([]item, 0, len(partial))
		for _, s := range partial {
			if !s.skip {
				items = append(items, s.it)
			}
		}
		return &TooLargeError{Size: over.n, Limit: opts.MaxSize, Largest: largestOf(items), Partial: true}
	}
	var ie *inputError
	if errors.As(err, &ie) {
		return &inputError{msg: fmt.Sprintf("archive %s", opts.Path), err: ie}
	}
	return notArchive(opts.Path, err)
}

// overLimit carries how many bytes were counted (or announced) when the limit was passed.
type overLimit struct{ n int64 }

func (e *overLimit) Error() string { return fmt.Sprintf("%d bytes: %v", e.n, errOverLimit) }
func (e *overLimit) Unwrap() error { return errOverLimit }

// openStream returns the extractor to use on f and the reader to give it.
// Streamed formats (tar, compressed or not) are decompressed here, through a
// counter that fails the read past max bytes, so that a bomb costs at most
// max bytes of decompression. Formats read by random access (zip, 7z, rar)
// get f itself; their entries' declared sizes are checked instead.
func openStream(format archives.Format, ex archives.Extractor, f *os.File, max int64) (archives.Extractor, io.Reader, *countReader, func(), error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	switch fm := format.(type) {
	case archives.CompressedArchive:
		if fm.Compression == nil {
			break
		}
		rc, err := fm.Compression.OpenReader(f)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		cr := &countReader{r: rc, max: max}
		return fm.Extraction, cr, cr, func() { rc.Close() }, nil
	case archives.Tar:
		cr := &countReader{r: f, max: max}
		return ex, cr, cr, func() {}, nil
	}
	return ex, f, nil, func() {}, nil
}

// scanArchive lists the entries of the archive in f. For a tar.gz it also
// returns the length of the decompressed stream, trailing blocks included:
// for an archive sent as is, that is the size Scalingo will check.
func scanArchive(ctx context.Context, format archives.Format, ex archives.Extractor, f *os.File, max int64, drain bool, capture *archiveCapture) ([]scanned, int64, error) {
	ex, r, cr, done, err := openStream(format, ex, f, max)
	if err != nil {
		return nil, 0, err
	}
	defer done()
	out, err := scan(ctx, ex, r, max, capture)
	if err == nil && drain {
		_, err = io.Copy(io.Discard, r) // trailing blocks and record padding
	}
	if cr != nil && cr.n > max {
		err = &overLimit{n: cr.n}
	}
	if err != nil {
		return out, 0, err
	}
	if cr == nil {
		return out, 0, nil
	}
	return out, cr.n, nil
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
		return s, &inputError{msg: err.Error()}
	}
	s.name = name
	if name == "" {
		s.skip = true
		return s, nil
	}
	mode := fi.Mode()
	s.it = item{name: name, mtime: fi.ModTime().Unix(), mode: normMode(mode)}
	hdr, _ := fi.Header.(*tar.Header)
	switch {
	case hdr != nil && hdr.Typeflag == tar.TypeLink:
		if strings.HasPrefix(hdr.Linkname, "/") {
			return s, &inputError{msg: fmt.Sprintf("entry %q is a hard link to the absolute path %q", fi.NameInArchive, hdr.Linkname)}
		}
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return s, &inputError{msg: fmt.Sprintf("entry %q is a hard link to %q, outside the archive", fi.NameInArchive, hdr.Linkname)}
		}
		s.it.mode = normMode(mode.Perm())
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

// scan lists the entries, stopping as soon as the file sizes they announce
// add up to more than max: a header promising 100 GiB is refused before any
// of it is decompressed.
func scan(ctx context.Context, ex archives.Extractor, r io.Reader, max int64, capture *archiveCapture) ([]scanned, error) {
	var out []scanned
	var announced int64
	err := ex.Extract(ctx, r, func(ctx context.Context, fi archives.FileInfo) error {
		s, err := newScanned(fi)
		if err != nil {
			return err
		}
		out = append(out, s)
		if !s.skip {
			announced += s.it.size
		}
		if announced > max || announced < 0 {
			return &overLimit{n: announced}
		}
		return capture.see(s, fi)
	})
	return out, err
}

// countReader counts the bytes read through it and fails the read once they
// pass max.
type countReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, &overLimit{n: c.n}
	}
	// Never read much past the limit, whatever buffer the caller offers.
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, &overLimit{n: c.n}
	}
	return n, err
}

// checkLinks refuses what would let an extraction write outside its folder
// (GNU tar refuses both): an entry whose path goes through a symlink entry
// (app/link -> /etc, then app/link/passwd), and a hard link to a path through
// one. Symlinks themselves stay links. Hard links to absolute or climbing
// targets are refused as they are read (newScanned).
func checkLinks(p string, es []scanned) error {
	links := map[string]bool{}
	for _, s := range es {
		if s.name != "" && s.it.mode&fs.ModeSymlink != 0 && !s.it.hard {
			links[s.name] = true
		}
	}
	if len(links) == 0 {
		return nil
	}
	through := func(name string) string {
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			if links[d] {
				return d
			}
		}
		return ""
	}
	for _, s := range es {
		if s.name == "" {
			continue
		}
		if l := through(s.name); l != "" {
			return &inputError{msg: fmt.Sprintf("archive %s: entry %q lies below the symlink entry %q: extracting it would write where the link points", p, s.raw, l)}
		}
		if s.it.hard {
			if l := through(s.it.link); l != "" {
				return &inputError{msg: fmt.Sprintf("archive %s: entry %q is a hard link through the symlink entry %q", p, s.raw, l)}
			}
		}
	}
	return nil
}

// checkHasFile refuses an archive that holds folders only.
func checkHasFile(p string, es []scanned) error {
	for _, s := range es {
		if !s.skip && !s.it.isDir() {
			return nil
		}
	}
	return &inputError{msg: fmt.Sprintf("archive %s holds no file to deploy", p)}
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
				items[0].mtime = it.mtime
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
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{File: f, Size: n, UncompressedSize: rawTar, Count: len(es), SHA256: hex.EncodeToString(h.Sum(nil)),
		Largest: largest, Prebuilt: true}
	if opts.List {
		res.Entries = entriesOf(items)
	}
	return res, nil
}

func repack(ctx context.Context, format archives.Format, ex archives.Extractor, in *os.File, max int64, out *os.File, prefix string, es []scanned, items []item, tarSize int64, res *Result) error {
	ex, r, _, done, err := openStream(format, ex, in, max)
	if err != nil {
		return err
	}
	defer done()
	t, err := newTarGz(out)
	if err != nil {
		return err
	}
	if err := t.writeHeader(items[0].header(prefix)); err != nil {
		t.abort()
		return err
	}
	k, next := 0, 1 // index into es, and the next item to write
	err = ex.Extract(ctx, r, func(ctx context.Context, fi archives.FileInfo) error {
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
		if !it.mode.IsRegular() || it.hard {
			return nil
		}
		rc, err := fi.Open()
		if err != nil {
			return fmt.Errorf("read %s: %w", fi.NameInArchive, err)
		}
		defer rc.Close()
		if err := t.copyFile(ctx, fi.NameInArchive, rc, it.size); errors.Is(err, errShrank) {
			return &inputError{msg: fmt.Sprintf("entry %q holds less data than the %d bytes it declares", fi.NameInArchive, it.size)}
		} else if err != nil {
			return err
		}
		// A zip entry's data may not match the size it declares: more data
		// would be cut silently, and a reader checks the CRC only at the end.
		var one [1]byte
		if n, err := io.ReadFull(rc, one[:]); n > 0 {
			return &inputError{msg: fmt.Sprintf("entry %q holds more data than the %d bytes it declares", fi.NameInArchive, it.size)}
		} else if err != io.EOF {
			return &inputError{msg: fmt.Sprintf("entry %q", fi.NameInArchive), err: err}
		}
		return nil
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
