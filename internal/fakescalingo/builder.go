package fakescalingo

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

const fetchPrefix = "Fail to fetch source code: "

var errTooHeavy = errors.New("too heavy")

// fetchSource does what Scalingo's builder does with source_url: download it,
// check its Content-Type, and unpack it within the size limit. The messages
// for Content-Type and size are the real ones (scalingo-api.md §3.3); the
// others are made up in the same style.
func (s *Server) fetchSource(sourceURL string) *Archive {
	a := &Archive{}
	client := &http.Client{Transport: s.transport, Timeout: 2 * time.Minute}
	req, err := http.NewRequest(http.MethodGet, sourceURL, nil)
	if err != nil {
		a.Err = fetchPrefix + "invalid url"
		return a
	}
	req.Header.Set(forwardedHeader, "builder")
	resp, err := client.Do(req)
	if err != nil {
		// The error would print the signed URL; say what happened without it.
		a.Err = fetchPrefix + "the provided url could not be reached"
		return a
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.Err = fmt.Sprintf("%sthe provided url answered %d %s", fetchPrefix, resp.StatusCode, http.StatusText(resp.StatusCode))
		return a
	}
	a.ContentType = resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(a.ContentType); mt != "application/x-gzip" {
		shown := a.ContentType
		if shown == "" {
			shown = "binary/octet-stream"
		}
		a.Err = fetchPrefix + "The provided url does not point at a supported Content-Type (" + shown + ")"
		return a
	}
	compressed := &countingReader{r: resp.Body, limit: -1}
	gz, err := gzip.NewReader(compressed)
	if err != nil {
		a.Err = fetchPrefix + "fail to handle tgz: " + err.Error()
		return a
	}
	plain := &countingReader{r: gz, limit: s.opts.MaxArchiveSize}
	tooHeavy := fmt.Sprintf("%sfail to handle tgz: The archive is too heavy (more than %d bytes)", fetchPrefix, s.opts.MaxArchiveSize)
	// tgzError is what Scalingo's builder says of an archive it cannot read.
	tgzError := func(err error) string {
		if errors.Is(err, errTooHeavy) {
			return tooHeavy
		}
		return fetchPrefix + "fail to handle tgz: " + err.Error()
	}
	tr := tar.NewReader(plain)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.Err = tgzError(err)
			return a
		}
		e := Entry{Name: h.Name, Typeflag: h.Typeflag, Mode: h.FileInfo().Mode(), Size: h.Size, Linkname: h.Linkname}
		if h.Typeflag == tar.TypeReg && h.Size <= 1<<20 {
			e.Content, err = io.ReadAll(tr)
		} else {
			_, err = io.Copy(io.Discard, tr)
		}
		if err != nil {
			a.Err = tgzError(err)
			return a
		}
		a.Entries = append(a.Entries, e)
	}
	// The tar end blocks and gzip trailer count too.
	if _, err := io.Copy(io.Discard, plain); err != nil {
		if errors.Is(err, errTooHeavy) {
			a.Err = tooHeavy
		} else {
			a.Err = fetchPrefix + "fail to handle tgz: " + err.Error()
		}
		return a
	}
	a.UncompressedSize = plain.n
	io.Copy(io.Discard, compressed)
	a.CompressedSize = compressed.n
	if msg := checkLayout(a.Entries); msg != "" {
		a.Err = fetchPrefix + "fail to handle tgz: " + msg
	}
	return a
}

// checkLayout enforces "The tar archive MUST contain a single folder at the
// root" (deployments.md). A "./" prefix is refused: what Scalingo does with
// it is undocumented, so the deployer must not rely on it.
func checkLayout(entries []Entry) string {
	if len(entries) == 0 {
		return "the archive is empty"
	}
	var roots []string
	for _, e := range entries {
		name := e.Name
		if strings.HasPrefix(name, "/") || slices.Contains(strings.Split(name, "/"), "..") {
			return fmt.Sprintf("invalid path in the archive: %q", name)
		}
		first, rest, _ := strings.Cut(name, "/")
		if rest == "" && e.Typeflag != tar.TypeDir {
			return fmt.Sprintf("the archive must contain a single folder at its root, found the file %q at the root", name)
		}
		if !slices.Contains(roots, first) {
			roots = append(roots, first)
		}
	}
	if len(roots) != 1 {
		return fmt.Sprintf("the archive must contain a single folder at its root, found %d: %s", len(roots), strings.Join(roots, ", "))
	}
	if roots[0] == "." || path.Clean(roots[0]) != roots[0] {
		return fmt.Sprintf("the archive must contain a single named folder at its root, found %q", roots[0])
	}
	return ""
}

// countingReader counts bytes and fails past limit (negative: no limit).
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit >= 0 && c.n > c.limit {
		return n, errTooHeavy
	}
	return n, err
}
