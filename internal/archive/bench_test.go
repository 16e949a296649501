package archive

import (
	"context"
	"testing"

	"github.com/scalingo-deploy/scalingo-deploy/bench/treegen"
)

// BenchmarkBuild is a quick sanity check of the archive step's throughput on
// a small generated tree; bench/run.sh is the real benchmark against tar -czf.
func BenchmarkBuild(b *testing.B) {
	root := b.TempDir()
	st, err := treegen.Generate(root, 20_000_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes)
	tmp := b.TempDir()
	for b.Loop() {
		res, err := Build(context.Background(), Options{Path: root, TempDir: tmp})
		if err != nil {
			b.Fatal(err)
		}
		res.Close()
	}
}
