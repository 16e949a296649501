// Package treegen writes a deterministic, realistic-looking workspace for the
// archive benchmark: source files of varied sizes, a deep node_modules-like
// tree of small files, minified bundles, and already-compressed assets.
package treegen

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Stats says what Generate wrote.
type Stats struct {
	Files, Dirs int
	Bytes       int64
}

var words = strings.Fields(`func return if else for range var const type struct interface package import
	string int error nil true false err ctx value result request response handler config client server
	export default function async await const let class extends new this props state render component
	module require exports self def lambda yield from import None True False print logger debug info
	user account token session payload buffer stream reader writer index count total items list map
	get set update delete create find filter reduce push pop length size name path url query params`)

var punct = []string{"(", ")", "{", "}", ";", ",", ".", " = ", " := ", " == ", " + ", "\n", "\n\t", "\n\t\t", ": ", "[]", "\"", "'"}

// Generate writes about size bytes below root, the same bytes for the same seed.
func Generate(root string, size int64, seed uint64) (Stats, error) {
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), root: root}
	// Shares of the total, roughly what a Node/Go web app checkout holds.
	parts := []struct {
		share float64
		fn    func(budget int64) error
	}{
		{0.45, g.nodeModules},
		{0.15, g.sources},
		{0.12, g.bundles},
		{0.28, g.assets},
	}
	for _, p := range parts {
		if err := p.fn(int64(float64(size) * p.share)); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

type gen struct {
	rng   *rand.Rand
	root  string
	stats Stats
	buf   []byte
}

func (g *gen) text(n int) []byte {
	b := g.buf[:0]
	for len(b) < n {
		b = append(b, words[g.rng.IntN(len(words))]...)
		if g.rng.IntN(3) == 0 {
			b = append(b, punct[g.rng.IntN(len(punct))]...)
		} else {
			b = append(b, ' ')
		}
		if g.rng.IntN(40) == 0 {
			b = fmt.Appendf(b, "%d", g.rng.IntN(100000))
		}
	}
	g.buf = b
	return b[:n]
}

func (g *gen) random(n int) []byte {
	if cap(g.buf) < n {
		g.buf = make([]byte, n)
	}
	b := g.buf[:n]
	for i := 0; i+8 <= n; i += 8 {
		v := g.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func (g *gen) write(rel string, data []byte) error {
	p := filepath.Join(g.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if _, err := w.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	g.stats.Files++
	g.stats.Bytes += int64(len(data))
	return f.Close()
}

// sizeOf draws a file size, mostly small with a long tail.
func (g *gen) sizeOf(median int) int {
	s := int(float64(median) * g.rng.ExpFloat64())
	return max(s, 32)
}

func (g *gen) name() string {
	return words[g.rng.IntN(len(words))] + fmt.Sprint(g.rng.IntN(1000))
}

func (g *gen) nodeModules(budget int64) error {
	var used int64
	for pkg := 0; used < budget; pkg++ {
		base := fmt.Sprintf("node_modules/%s-%d", g.name(), pkg)
		if g.rng.IntN(4) == 0 {
			base = fmt.Sprintf("node_modules/@scope%d/%s", g.rng.IntN(30), g.name())
		}
		if err := g.write(base+"/package.json", fmt.Appendf(nil, `{"name":%q,"version":"1.%d.0","main":"index.js"}`, base, pkg)); err != nil {
			return err
		}
		// A few folders per package, some deep, each holding several files.
		dirs := []string{base}
		for range g.rng.IntN(4) {
			dir := base
			for range 1 + g.rng.IntN(5) {
				dir += "/" + []string{"lib", "dist", "src", "esm", "cjs", "utils", "internal"}[g.rng.IntN(7)]
			}
			dirs = append(dirs, dir)
		}
		n := 3 + g.rng.IntN(25)
		for i := 0; i < n && used < budget; i++ {
			dir := dirs[g.rng.IntN(len(dirs))]
			sz := g.sizeOf(4000)
			if err := g.write(fmt.Sprintf("%s/%s.js", dir, g.name()), g.text(sz)); err != nil {
				return err
			}
			used += int64(sz)
		}
	}
	return nil
}

func (g *gen) sources(budget int64) error {
	var used int64
	exts := []string{".go", ".ts", ".tsx", ".py", ".rb", ".css", ".html", ".md", ".json", ".yml"}
	for i := 0; used < budget; i++ {
		dir := fmt.Sprintf("src/%s/%s", g.name(), []string{"api", "web", "core", "db", "jobs"}[g.rng.IntN(5)])
		sz := g.sizeOf(8000)
		if err := g.write(fmt.Sprintf("%s/%s%s", dir, g.name(), exts[g.rng.IntN(len(exts))]), g.text(sz)); err != nil {
			return err
		}
		used += int64(sz)
	}
	return nil
}

func (g *gen) bundles(budget int64) error {
	var used int64
	for i := 0; used < budget; i++ {
		sz := 500_000 + g.rng.IntN(3_000_000)
		if err := g.write(fmt.Sprintf("public/build/chunk-%03d.min.js", i), g.text(sz)); err != nil {
			return err
		}
		used += int64(sz)
	}
	return nil
}

func (g *gen) assets(budget int64) error {
	var used int64
	exts := []string{".png", ".jpg", ".woff2", ".webp", ".gz", ".zip", ".mp4"}
	for i := 0; used < budget; i++ {
		sz := g.sizeOf(300_000)
		if g.rng.IntN(40) == 0 {
			sz = 4_000_000 + g.rng.IntN(8_000_000)
		}
		if err := g.write(fmt.Sprintf("public/assets/%s/%s-%d%s", g.name(), g.name(), i, exts[g.rng.IntN(len(exts))]), g.random(sz)); err != nil {
			return err
		}
		used += int64(sz)
	}
	return nil
}
