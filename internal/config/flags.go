package config

import (
	"fmt"
	"strings"
)

// parseFlags reads --name value and --name=value (one dash works too). Boolean inputs
// may stand alone (--dry-run), or take a value in either form (--wait=false, --wait false).
// Go's flag package is not used because it cannot read "--wait false".
func parseFlags(args []string) (map[string]string, error) {
	known := map[string]kind{"help": boolean, "h": boolean, "version": boolean}
	for _, in := range inputs {
		known[in.name] = in.kind
	}
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		// A stray argument is not echoed: it could be a token pasted in the wrong place.
		if arg == "--" {
			if len(args[i+1:]) > 0 {
				return nil, &InputError{Input: "arguments", Msg: "unexpected argument after --; see --help"}
			}
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return nil, &InputError{Input: "arguments", Msg: fmt.Sprintf("unexpected argument #%d; inputs are flags like --app my-app (see --help)", i+1)}
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		k, ok := known[name]
		if !ok {
			// Named by position only: a token pasted as --tk-us-… would be echoed otherwise.
			return nil, &InputError{Input: "arguments", Msg: fmt.Sprintf("argument #%d is an unknown flag; see --help", i+1)}
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
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, &InputError{Input: "--" + name, Msg: "needs a value"}
			}
		}
		out[name] = value
	}
	return out, nil
}

func isBoolWord(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "1", "0", "t", "f":
		return true
	}
	return false
}
