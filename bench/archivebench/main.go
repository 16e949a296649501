// Command archivebench runs the product's archive step alone (archive.Build)
// on a folder and prints the result, for bench/run.sh to time against tar -czf.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/archive"
)

// keepCopy writes the archive to path: the temp file has no name to move.
func keepCopy(res *archive.Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.NewSectionReader(res.File, 0, res.Size)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	path := flag.String("path", ".", "folder or archive to build from")
	keep := flag.String("keep", "", "move the archive to this file instead of deleting it")
	maxSize := flag.Int64("max-size", 1<<40, "size limit in bytes (the benchmark trees exceed Scalingo's)")
	flag.Parse()
	start := time.Now()
	res, err := archive.Build(context.Background(), archive.Options{Path: *path, MaxSize: *maxSize})
	if err != nil {
		fmt.Fprintln(os.Stderr, "archivebench:", err)
		os.Exit(1)
	}
	elapsed := time.Since(start)
	out := map[string]any{"seconds": elapsed.Seconds(), "size": res.Size, "uncompressed": res.UncompressedSize,
		"count": res.Count, "sha256": res.SHA256}
	if *keep != "" {
		if err := keepCopy(res, *keep); err != nil {
			fmt.Fprintln(os.Stderr, "archivebench:", err)
		}
	}
	if err := res.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "archivebench:", err)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
