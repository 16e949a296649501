package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"runtime"
	"time"

	"github.com/klauspost/pgzip"
)

// The tree is written with archive/tar and klauspost/pgzip directly rather
// than through mholt/archives' Archive: that path builds its file list with
// FilesFromDisk (no ignore hook, .git included, stat-order surprises), defers
// the compressor's Close so a failed gzip trailer goes unnoticed, and fills in
// uid/gid/uname that a reproducible archive must not carry. mholt/archives is
// used where it fits: identifying and reading prebuilt archives (prebuilt.go).

// gzipLevel: klauspost's level 6 stays within 3% of gzip -6 even on text-only
// trees (level 4 does not stay within 5%); BENCHMARKS.md has the measurements.
const gzipLevel = 6

// pgzip compresses blocks of this size in parallel, at most gzipBlocks at a
// time, so memory stays flat whatever the tree size (512 KiB: same speed as
// 1 MiB blocks at two thirds of the memory).
const gzipBlockSize = 512 << 10

func gzipBlocks() int { return 2 * runtime.GOMAXPROCS(0) }

// item is one entry planned for the archive.
type item struct {
	name  string      // relative to the top folder, slash-separated; "" is the top folder itself
	mode  fs.FileMode // type and permission bits
	size  int64       // regular files only
	mtime int64       // Unix seconds, already clamped
	link  string      // symlink target as written; hard link target (a name) for repacked archives
	hard  bool        // a hard link to another entry of the archive
}

func (it *item) isDir() bool { return it.mode.IsDir() }

func (it *item) header(prefix string) *tar.Header {
	name := prefix + "/"
	if it.name != "" {
		name += it.name
		if it.isDir() {
			name += "/"
		}
	}
	h := &tar.Header{
		Name:    name,
		Mode:    tarMode(it.mode),
		ModTime: time.Unix(it.mtime, 0),
	}
	switch {
	case it.isDir():
		h.Typeflag = tar.TypeDir
	case it.hard:
		h.Typeflag = tar.TypeLink
		h.Linkname = prefix + "/" + it.link
	case it.mode&fs.ModeSymlink != 0:
		h.Typeflag = tar.TypeSymlink
		h.Linkname = it.link
	default:
		h.Typeflag = tar.TypeReg
		h.Size = it.size
	}
	return h
}

func tarMode(m fs.FileMode) int64 { return int64(m.Perm()) }

// normMode keeps the type of m and gives it the permissions git archive
// writes: what the umask of a checkout or a build step left on disk must not
// change the archive, nor setuid, setgid or sticky bits ship.
func normMode(m fs.FileMode) fs.FileMode {
	switch {
	case m.IsDir():
		return fs.ModeDir | 0o755
	case m&fs.ModeSymlink != 0:
		return fs.ModeSymlink | 0o777
	case m&0o100 != 0:
		return m.Type() | 0o755
	default:
		return m.Type() | 0o644
	}
}

// tarLen is the number of bytes the entry takes in the tar stream: its
// header (with any PAX record) and its content padded to 512 bytes.
func tarLen(h *tar.Header) (int64, error) {
	n, err := headerLen(h)
	if err != nil {
		return 0, err
	}
	if h.Typeflag == tar.TypeReg {
		n += (h.Size + 511) &^ 511
	}
	return n, nil
}

func headerLen(h *tar.Header) (int64, error) {
	if plainUSTAR(h) {
		return 512, nil
	}
	// Rare (long or non-ASCII names, huge files, odd times): let archive/tar say.
	var c countWriter
	if err := tar.NewWriter(&c).WriteHeader(h); err != nil {
		return 0, fmt.Errorf("tar header for %s: %w", h.Name, err)
	}
	return c.n, nil
}

// plainUSTAR reports whether h fits a single 512-byte USTAR block.
func plainUSTAR(h *tar.Header) bool {
	return len(h.Name) <= 100 && len(h.Linkname) <= 100 && isPlainASCII(h.Name) && isPlainASCII(h.Linkname) &&
		h.Size < 1<<33 && h.ModTime.Unix() >= 0 && h.ModTime.Unix() < 1<<33
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// endLen is the two zero blocks that end a tar stream.
const endLen = 1024

// countWriter counts bytes on their way to w (or drops them when w is nil).
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.w == nil {
		c.n += int64(len(p))
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// tarGz streams tar entries through parallel gzip into f, hashing what is
// written. f stays open: it is the Result's File.
type tarGz struct {
	hash hash.Hash
	out  countWriter // compressed bytes, to f and hash
	gz   *pgzip.Writer
	raw  countWriter // uncompressed tar bytes, to gz
	tw   *tar.Writer
	buf  []byte
}

func newTarGz(f io.Writer) (*tarGz, error) {
	t := &tarGz{hash: sha256.New(), buf: make([]byte, 256<<10)}
	t.out.w = io.MultiWriter(f, t.hash)
	gz, err := pgzip.NewWriterLevel(&t.out, gzipLevel)
	if err != nil {
		return nil, fmt.Errorf("start gzip: %w", err)
	}
	if err := gz.SetConcurrency(gzipBlockSize, gzipBlocks()); err != nil {
		return nil, fmt.Errorf("start gzip: %w", err)
	}
	// No name and a zero time in the gzip header. pgzip writes ModTime.Unix()
	// as is, so the zero time.Time must not be left in place.
	gz.Header.ModTime = time.Unix(0, 0)
	t.gz = gz
	t.raw.w = gz
	t.tw = tar.NewWriter(&t.raw)
	return t, nil
}

func (t *tarGz) writeHeader(h *tar.Header) error {
	if err := t.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write archive: %s: %w", h.Name, err)
	}
	return nil
}

// errShrank: a file held fewer bytes than its size said.
var errShrank = errors.New("file shrank while being archived")

// copyFile writes exactly n bytes of r, the content of the entry named name.
func (t *tarGz) copyFile(ctx context.Context, name string, r io.Reader, n int64) error {
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := t.buf
		if int64(len(b)) > n {
			b = b[:n]
		}
		m, err := io.ReadFull(r, b)
		if m > 0 {
			if _, werr := t.tw.Write(b[:m]); werr != nil {
				return fmt.Errorf("write archive: %w", werr)
			}
			n -= int64(m)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("read %s: %w", name, errShrank)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}

// finish closes every layer, checking each Close: the gzip trailer and the
// last compressed blocks are only written then.
func (t *tarGz) finish() (compressed, uncompressed int64, sum string, err error) {
	if err := t.tw.Close(); err != nil {
		t.gz.Close()
		return 0, 0, "", fmt.Errorf("write archive: %w", err)
	}
	if err := t.gz.Close(); err != nil {
		return 0, 0, "", fmt.Errorf("write archive: gzip: %w", err)
	}
	return t.out.n, t.raw.n, hex.EncodeToString(t.hash.Sum(nil)), nil
}

// abort releases the compressor after a failure.
func (t *tarGz) abort() {
	t.gz.Close()
}

// topN keeps the n largest entries, ties broken by name for stable output.
type topN struct {
	n  int
	es []Entry
}

func (t *topN) add(e Entry) {
	if len(t.es) == t.n && !larger(e, t.es[len(t.es)-1]) {
		return
	}
	i := len(t.es)
	for i > 0 && larger(e, t.es[i-1]) {
		i--
	}
	t.es = append(t.es, Entry{})
	copy(t.es[i+1:], t.es[i:])
	t.es[i] = e
	if len(t.es) > t.n {
		t.es = t.es[:t.n]
	}
}

func larger(a, b Entry) bool {
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	return a.Name < b.Name
}
