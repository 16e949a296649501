package config

import (
	"fmt"
	"strings"
)

// parseFlags reads --name value and --name=value (one dash works too). Boolean inputs
// may stand alone (--dry-run), or take a value in either form (--wait=false, --wait false).
// Go's flag package is not used because it cannot read "--wait false".
//
// A stray argument or an unknown flag is named by its position, and echoed only when it is
// close to a flag's name: anything else could be a token pasted in the wrong place.
func parseFlags(args []string) (map[string]string, error) {
	known := map[string]kind{"help": boolean, "h": boolean, "version": boolean}
	for _, in := range inputs {
		known[in.name] = in.kind
	}
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if len(args[i+1:]) > 0 {
				return nil, &InputError{Input: "arguments", Msg: "unexpected argument after --; see --help"}
			}
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return nil, strayArgument(args, i)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		k, ok := known[name]
		if !ok {
			return nil, unknownFlag(name, i)
		}
		if name == "h" {
			name = "help"
		}
		if !hasValue {
			switch {
			case k == boolean && i+1 < len(args) && isBoolWord(args[i+1]):
				i++
				value = args[i]
			case k == boolean:
				value = "true"
			case i+1 < len(args) && isFlag(args[i+1], known):
				return nil, &InputError{Input: "--" + name, Msg: fmt.Sprintf("needs a value, but the next argument is the flag %s; write --%s VALUE or --%s=VALUE", strings.SplitN(args[i+1], "=", 2)[0], name, name)}
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, &InputError{Input: "--" + name, Msg: fmt.Sprintf("needs a value: write --%s VALUE or --%s=VALUE", name, name)}
			}
		}
		out[name] = value
	}
	return out, nil
}

// strayArgument explains the argument at i, which is not a flag: most often the value of
// a switch (--wait nope) or a second value after a flag's own.
func strayArgument(args []string, i int) error {
	if i > 0 {
		prev, _, hasValue := strings.Cut(strings.TrimLeft(args[i-1], "-"), "=")
		if in, ok := inputNamed(prev); ok && in.kind == boolean && !hasValue && strings.HasPrefix(args[i-1], "-") {
			return &InputError{Input: "--" + prev, Msg: fmt.Sprintf("takes true or false (--%s, --%s=false or --%s false); argument #%d after it is neither", prev, prev, prev, i+1)}
		}
	}
	return &InputError{Input: "arguments", Msg: fmt.Sprintf("unexpected argument #%d: every input is a flag with its value, like --app my-app; a list is one value, quoted: --app \"my-api, my-worker\" (see --help)", i+1)}
}

// unknownFlag names the closest flag. The unknown name is echoed only when it is close to
// one: a token pasted as --tk-us-… is not.
func unknownFlag(name string, i int) error {
	if best, ok := closestFlag(name); ok {
		return &InputError{Input: "arguments", Msg: fmt.Sprintf("argument #%d, --%s, is not a flag; did you mean --%s? (see --help)", i+1, name, best)}
	}
	return &InputError{Input: "arguments", Msg: fmt.Sprintf("argument #%d is an unknown flag; see --help for the flags", i+1)}
}

// closestFlag returns the flag name nearest to name: the same once case, '_' and a
// variable's prefix are set aside (--API_TOKEN, --scalingo-app), else within a small edit
// distance (--ap, --dryrun, --healthcheck).
func closestFlag(name string) (string, bool) {
	norm := normalize(name)
	for _, p := range []string{"scalingo-", "input-", "plugin-"} {
		norm = strings.TrimPrefix(norm, p)
	}
	names := []string{"help", "version"}
	for _, in := range inputs {
		names = append(names, in.name)
	}
	best, bestDist := "", 0
	for _, n := range names {
		if n == norm || strings.ReplaceAll(n, "-", "") == strings.ReplaceAll(norm, "-", "") {
			return n, true
		}
		d := distance(norm, n)
		if best == "" || d < bestDist {
			best, bestDist = n, d
		}
	}
	return best, bestDist <= maxTypo(best)
}

// maxTypo is how many edits still read as a typo of name.
func maxTypo(name string) int {
	switch {
	case len(name) <= 4:
		return 1
	case len(name) <= 8:
		return 2
	}
	return 3
}

// normalize lower-cases a name and writes '_' as '-'.
func normalize(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}

// distance is the optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours each count one.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func inputNamed(name string) (input, bool) {
	for _, in := range inputs {
		if in.name == name {
			return in, true
		}
	}
	return input{}, false
}

// isFlag tells whether arg is one of the known flags (a value may start with '-').
func isFlag(arg string, known map[string]kind) bool {
	if !strings.HasPrefix(arg, "-") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	_, ok := known[name]
	return ok
}

func isBoolWord(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "1", "0", "t", "f":
		return true
	}
	return false
}
