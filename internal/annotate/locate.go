package annotate

import (
	"path"
	"slices"
	"strings"
)

// MaxPerTarget is how many locations a deployment's failure is annotated with at most.
const MaxPerTarget = 10

// Location is a place in the repository that the build log blames.
type Location struct {
	// File is the path of a file the archive shipped, relative to its top folder.
	File      string
	Line, Col int // Col is 0 when the log gave none
	Message   string
}

// Shipped is the archive's file list, to map a logged path back to a file of the
// repository.
type Shipped struct {
	files  map[string]bool
	byBase map[string][]string
}

// NewShipped indexes files: paths relative to the archive's top folder, slash-separated
// (archive.Entry names; folders, ending in "/", are skipped).
func NewShipped(files []string) *Shipped {
	s := &Shipped{files: map[string]bool{}, byBase: map[string][]string{}}
	for _, f := range files {
		if f == "" || strings.HasSuffix(f, "/") {
			continue
		}
		s.files[f] = true
		s.byBase[path.Base(f)] = append(s.byBase[path.Base(f)], f)
	}
	return s
}

// maxPrefix is how many leading folders of a logged path may lie outside the repository:
// the builder's own (/tmp/build_x, /app).
const maxPrefix = 3

// dependencies are folders that hold other people's code: a path through one is never
// the app's line, even when the archive shipped it.
var dependencies = []string{"node_modules", "bower_components", "vendor", "site-packages", "dist-packages",
	".heroku", ".scalingo", ".cache", ".npm", ".yarn", ".pnpm-store", ".cargo", ".m2", ".gradle",
	".pyenv", ".rbenv", ".gem", ".bundle", "gems"}

// system roots hold the language's own files (/usr/local/go/src, /usr/lib/python3).
var systemRoots = []string{"usr", "opt", "lib", "lib64", "nix", "proc", "etc"}

// Resolve maps a path as the log printed it to the shipped file it names: the longest
// suffix of the logged path (past at most maxPrefix folders of the builder's) that is a
// shipped file, or else that ends exactly one shipped file's path (the app deployed from
// a PROJECT_DIR subfolder: the builder prints paths from there). ok is false for a path
// that maps to no file or to several, for a path into a dependency or the system, and for
// a path that climbs (..) inside the part that maps.
func (s *Shipped) Resolve(logged string) (file string, ok bool) {
	logged = strings.TrimPrefix(logged, "file://")
	abs := strings.HasPrefix(logged, "/")
	var parts []string
	for _, p := range strings.Split(logged, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 || slices.ContainsFunc(parts, func(p string) bool { return slices.Contains(dependencies, p) }) {
		return "", false
	}
	if abs && slices.Contains(systemRoots, parts[0]) {
		return "", false
	}
	for i := 0; i < len(parts) && i <= maxPrefix; i++ {
		rest := parts[i:]
		if slices.Contains(rest, "..") {
			continue
		}
		suffix := strings.Join(rest, "/")
		if s.files[suffix] {
			return suffix, true
		}
		var found []string
		for _, f := range s.byBase[rest[len(rest)-1]] {
			if strings.HasSuffix(f, "/"+suffix) {
				found = append(found, f)
			}
		}
		switch len(found) {
		case 1:
			return found[0], true
		case 0:
			continue
		}
		return "", false // several files end so: a shorter suffix would only match more
	}
	return "", false
}

// Locate keeps the candidates that map to a shipped file, first first, at most limit:
// one frame per stack trace (the innermost that maps), and one location per line (a
// later one with a column only adds it).
func Locate(cands []Candidate, s *Shipped, limit int) []Location {
	type mapped struct {
		Location
		group, rank int
	}
	var all []mapped
	best := map[int]int{} // group → index in all of its chosen frame
	for _, c := range cands {
		file, ok := s.Resolve(c.Path)
		if !ok {
			continue
		}
		m := mapped{Location{file, c.Line, c.Col, c.Message}, c.group, c.rank}
		if c.group == 0 {
			all = append(all, m)
			continue
		}
		j, seen := best[c.group]
		switch {
		case !seen:
			best[c.group] = len(all)
			all = append(all, m)
		case c.rank < all[j].rank:
			// A trace stays where its first mapped frame is, and shows its innermost.
			all[j] = m
		}
	}
	var out []Location
	for _, m := range all {
		dup := slices.IndexFunc(out, func(o Location) bool {
			return o.File == m.File && o.Line == m.Line && (o.Col == 0 || m.Col == 0 || o.Col == m.Col)
		})
		if dup >= 0 {
			if out[dup].Col == 0 {
				out[dup].Col = m.Col
			}
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, m.Location)
	}
	return out
}
