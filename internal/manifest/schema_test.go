package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// testdata/scalingo.schema.json is Scalingo's own schema, copied from
// Scalingo/developers-documentation (scalingo.schema.json at 1a450bf, 2026-06-22).

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func loadSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(filepath.Join("testdata", "scalingo.schema.json"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("scalingo.schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("scalingo.schema.json")
	})
	if schemaErr != nil {
		t.Fatalf("load Scalingo's schema: %v", schemaErr)
	}
	return schema
}

// schemaValid tells whether Scalingo's schema accepts data.
func schemaValid(t testing.TB, data []byte) bool {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return false
	}
	return loadSchema(t).Validate(inst) == nil
}

// asSchemaSees rewrites what Parse accepts on purpose beyond the schema, so that the schema
// can judge the rest: a missing name (only one-click needs it) and "value": null (which
// Scalingo's docs allow, to remove a variable).
func asSchemaSees(t testing.TB, data []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("Parse accepted what encoding/json refuses: %v", err)
	}
	if _, ok := doc["name"]; !ok {
		doc["name"] = "added for the schema"
	}
	if env, ok := doc["env"].(map[string]any); ok {
		for _, v := range env {
			if fields, ok := v.(map[string]any); ok {
				if val, ok := fields["value"]; ok && val == nil {
					fields["value"] = ""
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSchemaItself(t *testing.T) {
	s := loadSchema(t)
	if s == nil {
		t.Fatal("no schema")
	}
	// The schema must tell good from bad, or the comparisons below prove nothing.
	if !schemaValid(t, []byte(`{"name":"x","env":{"A":{"value":"1"}}}`)) {
		t.Error("the schema refuses a plain manifest")
	}
	if schemaValid(t, []byte(`{"name":"x","env":{"A":{"generator":"uuid"}}}`)) {
		t.Error("the schema accepts an unknown generator")
	}
}
