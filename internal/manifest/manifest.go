// Package manifest reads scalingo.json, the manifest Scalingo applies when it creates a
// review app, and computes the variables it sets on one.
//
// The file comes from the deployed tree, which a pull request writes: it is parsed
// strictly (Scalingo's JSON schema, testdata/scalingo.schema.json, plus the API's limits),
// and no message quotes a value from it.
package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a manifest.
const (
	// MaxSize bounds the file: real manifests are a few KiB.
	MaxSize = 1 << 20
	// MaxValueBytes is Scalingo's limit on a variable's value.
	MaxValueBytes = 8192
	// MaxAmount is Scalingo's limit on the containers of one type.
	MaxAmount = 10
	// MaxAddons bounds the addons provisioned per review app: each one is billed.
	MaxAddons = 20
)

// FileName is the manifest's name at the root of the deployed tree.
const FileName = "scalingo.json"

// Manifest is what scalingo.json asks of a review app.
type Manifest struct {
	// Env lists the variables in file order.
	Env []EnvVar
	// Addons are the addons to provision; AddonsSet tells an empty list from no key
	// (Scalingo's integration then copies the parent's addons).
	Addons    []Addon
	AddonsSet bool
	// Formation maps a process type to its containers, applied after the first
	// successful deployment.
	Formation map[string]Formation
	// FirstDeploy is scripts.first-deploy: the first deployment's postdeploy hook.
	FirstDeploy string
}

// EnvVar is one entry of env. Value is set for a `value` entry (nil for null, or for an
// entry with only a description); Generator is "", "secret", "url" or "template"; Template
// goes with url (optional) and template (required).
type EnvVar struct {
	Name      string
	Value     *string
	Generator string
	Template  string
}

// Addon is one addons item, "provider:plan" or {"plan": "provider:plan", "options": {...}}.
// Version is options.version, "" for the provider's default.
type Addon struct {
	Provider, Plan string
	Version        string
}

// Formation is the containers of one process type.
type Formation struct {
	Amount int
	Size   string
}

// Context is what the generators and templates substitute.
type Context struct {
	App, ParentApp, URL string
	PRNumber            int
	// Siblings are the run's review apps by parent name, for %URL:name% and
	// %APP:name% in templates.
	Siblings map[string]Sibling
}

// Var is a variable to set on the review app.
type Var struct {
	Name, Value string
}

// Error is a problem in the manifest, named by its JSON path (env.SECRET.generator,
// addons[2]). It is the user's to fix: invalid input.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return FileName + ": " + e.Msg
	}
	return FileName + ": " + e.Field + ": " + e.Msg
}

// InvalidInput marks the error as bad input (exit code 2).
func (e *Error) InvalidInput() bool { return true }

var (
	varName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// schemaKey is what a misspelt field looks like; other keys are named by position.
	schemaKey   = regexp.MustCompile(`^[a-z][a-z_-]{0,31}$`)
	processType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	addonPart   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	sizes       = []string{"S", "M", "L", "XL", "2XL"}
	stacks      = []string{"scalingo-22", "scalingo-20", "scalingo-18", "scalingo-14"}
)

// Parse reads and validates a manifest. Every problem is an *Error.
func Parse(data []byte) (*Manifest, error) {
	switch {
	case len(data) > MaxSize:
		return nil, &Error{Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	case !utf8.Valid(data):
		return nil, &Error{Msg: "not valid UTF-8"}
	}
	top, err := object(data, "")
	if err != nil {
		return nil, err
	}
	m := &Manifest{}
	for _, e := range top {
		switch e.key {
		case "$schema", "name", "description", "website", "logo", "repository", "ref":
			// One-click and documentation fields: checked, not used.
			if _, err := str(e.raw, e.key); err != nil {
				return nil, err
			}
		case "stack":
			// A child app runs on its parent's stack; the value is checked only.
			s, err := str(e.raw, e.key)
			if err != nil {
				return nil, err
			}
			if !contains(stacks, s) {
				return nil, &Error{e.key, "must be one of " + strings.Join(stacks, ", ")}
			}
		case "copy_parent_database_urls":
			b, err := boolish(e.raw, e.key)
			if err != nil {
				return nil, err
			}
			if b {
				// Copying the parent's database credentials hands production data to
				// pull-request code; copy-env names what to copy instead.
				return nil, &Error{e.key, "true is not supported: name the parent's variables to copy in the copy-env input"}
			}
		case "formation":
			if m.Formation, err = formation(e.raw); err != nil {
				return nil, err
			}
		case "env":
			if m.Env, err = env(e.raw); err != nil {
				return nil, err
			}
		case "scripts":
			if m.FirstDeploy, err = scripts(e.raw); err != nil {
				return nil, err
			}
		case "addons":
			if m.Addons, err = addons(e.raw); err != nil {
				return nil, err
			}
			m.AddonsSet = true
		default:
			field := "key[" + strconv.Itoa(e.index) + "]"
			if schemaKey.MatchString(e.key) {
				field = e.key
			}
			return nil, &Error{field, "unknown field"}
		}
	}
	return m, nil
}

type entry struct {
	key   string
	index int
	raw   json.RawMessage
}

// field names the entry in a path; a key that is not a plain name (it could be a pasted
// secret, or break the message) is named by its position.
func (e entry) field(parent string) string {
	k := e.key
	if !varName.MatchString(k) && k != "$schema" {
		k = "[" + strconv.Itoa(e.index) + "]"
		if parent == "" {
			return "key" + k
		}
		return parent + k
	}
	if parent == "" {
		return k
	}
	return parent + "." + k
}

// object splits a JSON object into its entries in file order, refusing duplicate keys:
// encoding/json would keep the last one silently.
func object(raw []byte, path string) ([]entry, error) {
	where := path
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		if err != nil && path == "" {
			return nil, &Error{Msg: "not valid JSON" + offset(dec)}
		}
		return nil, &Error{where, "must be an object"}
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, &Error{where, "not valid JSON" + offset(dec)}
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &Error{where, "not valid JSON" + offset(dec)}
		}
		e := entry{key: key, index: i, raw: v}
		if seen[key] {
			return nil, &Error{e.field(path), "given twice"}
		}
		seen[key] = true
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, &Error{where, "not valid JSON" + offset(dec)}
	}
	if path == "" {
		// Nothing may follow the top-level object.
		if _, err := dec.Token(); err != io.EOF {
			return nil, &Error{Msg: "not valid JSON: data after the top-level object"}
		}
	}
	return out, nil
}

func offset(dec *json.Decoder) string {
	return fmt.Sprintf(" (near byte %d)", dec.InputOffset())
}

func kindOf(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func str(raw json.RawMessage, path string) (string, error) {
	var s string
	if kindOf(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", &Error{path, "must be a string"}
	}
	return s, nil
}

// boolish accepts what the schema does: true, false, "true", "false".
func boolish(raw json.RawMessage, path string) (bool, error) {
	switch strings.TrimSpace(string(raw)) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	}
	return false, &Error{path, "must be true or false"}
}

func env(raw json.RawMessage) ([]EnvVar, error) {
	entries, err := object(raw, "env")
	if err != nil {
		return nil, err
	}
	var out []EnvVar
	for _, e := range entries {
		path := e.field("env")
		if !varName.MatchString(e.key) {
			return nil, &Error{path, "the name is not a variable name (1 to 64 letters, digits, '_' or '-')"}
		}
		fields, err := object(e.raw, path)
		if err != nil {
			return nil, err
		}
		v := EnvVar{Name: e.key}
		hasValue, hasTemplate, hasDescription := false, false, false
		required := ""
		for _, f := range fields {
			fpath := f.field(path)
			switch f.key {
			case "description":
				hasDescription = true
				if _, err := str(f.raw, fpath); err != nil {
					return nil, err
				}
			case "required":
				if _, err := boolish(f.raw, fpath); err != nil {
					return nil, err
				}
				required = strings.TrimSpace(string(f.raw))
			case "value":
				hasValue = true
				if strings.TrimSpace(string(f.raw)) == "null" {
					// Scalingo's docs: null removes the variable, as "" does.
					continue
				}
				s, err := str(f.raw, fpath)
				if err != nil {
					return nil, err
				}
				if err := checkValue(s, fpath); err != nil {
					return nil, err
				}
				v.Value = &s
			case "generator":
				s, err := str(f.raw, fpath)
				if err != nil {
					return nil, err
				}
				switch s {
				case "secret", "url", "template":
					v.Generator = s
				default:
					return nil, &Error{fpath, "must be secret, url or template"}
				}
			case "template":
				hasTemplate = true
				if v.Template, err = str(f.raw, fpath); err != nil {
					return nil, err
				}
				if err := checkValue(v.Template, fpath); err != nil {
					return nil, err
				}
			default:
				return nil, &Error{fpath, "unknown field"}
			}
		}
		switch {
		case hasValue && v.Generator != "":
			return nil, &Error{path, "has both value and generator; keep one"}
		case hasValue && hasTemplate:
			return nil, &Error{path + ".template", "goes with generator url or template, not with value"}
		case v.Generator == "secret" && hasTemplate:
			return nil, &Error{path + ".template", "goes with generator url or template, not with secret"}
		case v.Generator == "" && hasTemplate:
			return nil, &Error{path + ".template", "needs generator template or url"}
		case v.Generator == "template" && !hasTemplate:
			return nil, &Error{path, "generator template needs a template"}
		case !hasValue && v.Generator == "" && !hasDescription:
			return nil, &Error{path, "needs a value or a generator"}
		case !hasValue && v.Generator == "" && required != "" && required != "false":
			// The schema's form-only entry (a description, for one-click) cannot be required:
			// nothing would fill it.
			return nil, &Error{path + ".required", "a required variable needs a value or a generator"}
		}
		out = append(out, v)
	}
	return out, nil
}

func checkValue(s, path string) error {
	switch {
	case len(s) > MaxValueBytes:
		return &Error{path, fmt.Sprintf("longer than %d bytes", MaxValueBytes)}
	case strings.IndexByte(s, 0) >= 0:
		return &Error{path, "holds a NUL byte"}
	}
	return nil
}

func formation(raw json.RawMessage) (map[string]Formation, error) {
	entries, err := object(raw, "formation")
	if err != nil {
		return nil, err
	}
	out := map[string]Formation{}
	for _, e := range entries {
		path := e.field("formation")
		if !processType.MatchString(e.key) {
			return nil, &Error{path, "is not a process type name (letters, digits, '_' and '-', at most 64)"}
		}
		fields, err := object(e.raw, path)
		if err != nil {
			return nil, err
		}
		var f Formation
		hasAmount := false
		for _, fe := range fields {
			fpath := fe.field(path)
			switch fe.key {
			case "amount":
				hasAmount = true
				n, err := strconv.Atoi(strings.TrimSpace(string(fe.raw)))
				if err != nil || n < 0 || n > MaxAmount {
					return nil, &Error{fpath, fmt.Sprintf("must be a whole number from 0 to %d", MaxAmount)}
				}
				f.Amount = n
			case "size":
				s, err := str(fe.raw, fpath)
				if err != nil {
					return nil, err
				}
				if !contains(sizes, s) {
					return nil, &Error{fpath, "must be one of " + strings.Join(sizes, ", ")}
				}
				f.Size = s
			default:
				return nil, &Error{fpath, "unknown field"}
			}
		}
		switch {
		case !hasAmount:
			return nil, &Error{path + ".amount", "is missing"}
		case f.Size == "":
			return nil, &Error{path + ".size", "is missing"}
		}
		out[e.key] = f
	}
	return out, nil
}

func scripts(raw json.RawMessage) (string, error) {
	entries, err := object(raw, "scripts")
	if err != nil {
		return "", err
	}
	var first string
	for _, e := range entries {
		path := e.field("scripts")
		switch e.key {
		case "first-deploy":
			if first, err = str(e.raw, path); err != nil {
				return "", err
			}
			if err := checkValue(first, path); err != nil {
				return "", err
			}
		case "postdeploy":
			return "", &Error{path, "is deprecated and not applied: write a postdeploy line in the Procfile"}
		default:
			return "", &Error{path, "unknown field"}
		}
	}
	return first, nil
}

func addons(raw json.RawMessage) ([]Addon, error) {
	var items []json.RawMessage
	if kindOf(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, &Error{"addons", "must be an array"}
	}
	if len(items) > MaxAddons {
		return nil, &Error{"addons", fmt.Sprintf("lists %d addons; at most %d", len(items), MaxAddons)}
	}
	out := make([]Addon, 0, len(items))
	seen := map[string]bool{}
	for i, item := range items {
		path := fmt.Sprintf("addons[%d]", i)
		var a Addon
		var err error
		switch kindOf(item) {
		case '"':
			a, err = addonPlan(item, path)
		case '{':
			a, err = addonObject(item, path)
		default:
			err = &Error{path, `must be "provider:plan" or {"plan": "provider:plan"}`}
		}
		if err != nil {
			return nil, err
		}
		if seen[a.Provider] {
			return nil, &Error{path, "provider " + a.Provider + " is given twice"}
		}
		seen[a.Provider] = true
		out = append(out, a)
	}
	return out, nil
}

func addonObject(raw json.RawMessage, path string) (Addon, error) {
	fields, err := object(raw, path)
	if err != nil {
		return Addon{}, err
	}
	var a Addon
	hasPlan := false
	version := ""
	for _, f := range fields {
		fpath := f.field(path)
		switch f.key {
		case "plan":
			hasPlan = true
			if a, err = addonPlan(f.raw, fpath); err != nil {
				return Addon{}, err
			}
		case "options":
			opts, err := object(f.raw, fpath)
			if err != nil {
				return Addon{}, err
			}
			// The schema allows other options; version is the only one documented.
			for _, o := range opts {
				if o.key != "version" {
					continue
				}
				vpath := o.field(fpath)
				if version, err = str(o.raw, vpath); err != nil {
					return Addon{}, err
				}
				if !addonPart.MatchString(version) {
					return Addon{}, &Error{vpath, "is not a version (e.g. 4.0.16-1)"}
				}
			}
		default:
			return Addon{}, &Error{fpath, "unknown field"}
		}
	}
	if !hasPlan {
		return Addon{}, &Error{path + ".plan", "is missing"}
	}
	a.Version = version
	return a, nil
}

func addonPlan(raw json.RawMessage, path string) (Addon, error) {
	s, err := str(raw, path)
	if err != nil {
		return Addon{}, err
	}
	a, err := ParseAddon(s)
	if err != nil {
		return Addon{}, &Error{path, err.Error()}
	}
	return a, nil
}

// ParseAddon reads a "provider:plan" item (e.g. postgresql:postgresql-starter-512). The
// message does not quote the item.
func ParseAddon(s string) (Addon, error) {
	provider, plan, ok := strings.Cut(s, ":")
	if !ok || !addonPart.MatchString(provider) || !addonPart.MatchString(plan) {
		return Addon{}, errors.New(`is not "provider:plan" (e.g. postgresql:postgresql-starter-512; lower-case letters, digits, '.', '_' and '-')`)
	}
	return Addon{Provider: provider, Plan: plan}, nil
}

// Values computes the variables the manifest sets on a new review app, in file order.
// Entries without a value (null, "", a description only) are left out: a new child app
// has no variable for them to remove. random feeds the secret generator.
func (m *Manifest) Values(c Context, random io.Reader) ([]Var, error) {
	pr := ""
	if c.PRNumber > 0 {
		pr = strconv.Itoa(c.PRNumber)
	}
	// One pass: a substituted value is never substituted again.
	tokens := strings.NewReplacer(append([]string{"%APP%", c.App, "%PARENT_APP%", c.ParentApp, "%PR_NUMBER%", pr, "%URL%", c.URL},
		linkPairs(c.Siblings)...)...)
	var out []Var
	for _, v := range m.Env {
		var value string
		switch v.Generator {
		case "":
			if v.Value == nil || *v.Value == "" {
				continue
			}
			value = *v.Value
		case "secret":
			b := make([]byte, 16)
			if _, err := io.ReadFull(random, b); err != nil {
				return nil, fmt.Errorf("generate the secret %s: %w", v.Name, err)
			}
			value = hex.EncodeToString(b)
		case "url":
			value = c.URL
			if v.Template != "" {
				value = tokens.Replace(v.Template)
			}
		case "template":
			value = tokens.Replace(v.Template)
		default:
			return nil, &Error{"env." + v.Name + ".generator", "must be secret, url or template"}
		}
		if len(value) > MaxValueBytes {
			return nil, &Error{"env." + v.Name, fmt.Sprintf("the value is longer than %d bytes once the template is filled", MaxValueBytes)}
		}
		out = append(out, Var{Name: v.Name, Value: value})
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
