package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, refuses with an *Error, and accepts only what Scalingo's
// schema accepts (beyond the two documented leniencies, see asSchemaSees); what it accepts
// keeps every limit. Run it with -fuzzminimizetime 100x: minimizing a kilobyte-sized
// input byte by byte otherwise takes the engine most of a short run.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "manifests", "*.json"))
	for _, name := range files {
		// A large seed makes the engine's minimizing crawl; the limits have table tests.
		if data, err := os.ReadFile(name); err == nil && len(data) < 4096 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"env":{"A":{"value":null}},"addons":["a:b",{"plan":"c:d","options":{"version":"1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Parse error %T is not an *Error", err)
			}
			return
		}
		if !schemaValid(t, asSchemaSees(t, data)) {
			t.Fatalf("Parse accepted what Scalingo's schema refuses: %q", data)
		}
		for _, f := range m.Formation {
			if f.Amount < 0 || f.Amount > MaxAmount {
				t.Fatalf("amount %d", f.Amount)
			}
		}
		for _, v := range m.Env {
			if !varName.MatchString(v.Name) || (v.Value != nil && len(*v.Value) > MaxValueBytes) {
				t.Fatalf("variable %q", v.Name)
			}
		}
		if _, err := m.Values(Context{App: "a", URL: "u"}, bytes.NewReader(make([]byte, 16*len(m.Env)))); err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Values: %v", err)
			}
		}
	})
}
