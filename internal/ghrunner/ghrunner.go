// Package ghrunner reads a log as GitHub's runner (actions/runner) does, so that tests can
// tell which workflow commands a line of ours would run. It is a test oracle: the product
// never imports it.
package ghrunner

import (
	"strings"
	"unicode"
)

// Commands reads out as actions/runner does and returns the commands it would run (name
// and properties), and whether a stop-commands block is left open. The runner splits
// lines at \n, \r and \r\n; a line is a command when, once all leading whitespace is
// trimmed, it starts with "::name…::", or when it holds "##[" anywhere (the legacy form);
// inside ::stop-commands::TOKEN only "::TOKEN::" counts.
func Commands(out string) (commands []string, open bool) {
	stop := ""
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if stop != "" {
			if strings.EqualFold(line, "::"+stop+"::") {
				stop = ""
			}
			continue
		}
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if rest, ok := strings.CutPrefix(trimmed, "::"); ok {
			if cmd, _, ok := strings.Cut(rest, "::"); ok {
				commands = append(commands, cmd)
				if t, ok := strings.CutPrefix(line, "::stop-commands::"); ok {
					stop = t
				}
				continue
			}
		}
		if i := strings.Index(line, "##["); i >= 0 {
			commands = append(commands, "legacy "+line[i:])
		}
	}
	return commands, stop != ""
}
