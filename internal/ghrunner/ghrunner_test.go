package ghrunner

import (
	"slices"
	"testing"
)

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		out  string
		want []string
		open bool
	}{
		{"plain text", "hello\nworld\n", nil, false},
		{"a command", "::warning::x\n", []string{"warning"}, false},
		{"after Unicode blanks", "\u3000 ::error file=a::x", []string{"error file=a"}, false},
		{"split at a carriage return", "a\r::add-mask::s", []string{"add-mask"}, false},
		{"legacy form anywhere", "x##[warning]y", []string{"legacy ##[warning]y"}, false},
		{"stopped", "::stop-commands::tok\n::warning::x\n::tok::\n::notice::y", []string{"stop-commands", "notice"}, false},
		{"left open", "::stop-commands::tok\n::warning::x", []string{"stop-commands"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, open := Commands(tt.out)
			if !slices.Equal(got, tt.want) || open != tt.open {
				t.Errorf("Commands(%q) = %q, %v; want %q, %v", tt.out, got, open, tt.want, tt.open)
			}
		})
	}
}
