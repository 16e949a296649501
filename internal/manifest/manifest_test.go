package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func ptr(s string) *string { return &s }

// TestSamples runs the sample manifests shared with the end-to-end tests through Parse and
// through Scalingo's schema. Parse is stricter than the schema where the API has limits
// (schemaValid true, field set): those are the only disagreements.
func TestSamples(t *testing.T) {
	cases := []struct {
		file        string
		field       string // "" when Parse accepts it
		schemaValid bool
	}{
		{"valid-full.json", "", true},
		{"valid-minimal.json", "", true},
		{"valid-empty-addons.json", "", true},
		{"invalid-not-json.json", "", false},
		{"invalid-not-object.json", "", false},
		{"invalid-unknown-field.json", "enviroment", false},
		{"invalid-unknown-generator.json", "env.TOKEN.generator", false},
		{"invalid-value-type.json", "env.PORT_NUMBER.value", false},
		{"invalid-var-name.json", "env[0]", true},
		{"invalid-template-missing.json", "env.LABEL", false},
		{"invalid-value-and-generator.json", "env.KEY", false},
		{"invalid-addon-item.json", "addons[0]", true},
		{"invalid-addons-type.json", "addons", false},
		{"invalid-formation-amount.json", "formation.web.amount", true},
		{"invalid-formation-fraction.json", "formation.web.amount", true},
		{"invalid-formation-size.json", "formation.web.size", false},
		{"invalid-first-deploy-type.json", "scripts.first-deploy", false},
		{"invalid-value-too-long.json", "env.BIG.value", true},
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "manifests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(cases, func(c struct {
			file        string
			field       string
			schemaValid bool
		}) bool {
			return c.file == filepath.Base(f)
		}) {
			t.Errorf("sample %s has no case", filepath.Base(f))
		}
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "manifests", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaValid(t, data); got != tc.schemaValid {
				t.Errorf("Scalingo's schema says valid=%v, the case says %v", got, tc.schemaValid)
			}
			_, err = Parse(data)
			valid := strings.HasPrefix(tc.file, "valid-")
			if valid {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			if me.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", me.Field, tc.field, err)
			}
			if !me.InvalidInput() {
				t.Error("not invalid input")
			}
		})
	}
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "manifests", "valid-full.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		Env: []EnvVar{
			{Name: "GREETING", Value: ptr("hello")},
			{Name: "SECRET_KEY_BASE", Generator: "secret"},
			{Name: "APP_URL", Generator: "url"},
			{Name: "API_URL", Generator: "url", Template: "%URL%/api"},
			{Name: "REVIEW_LABEL", Generator: "template", Template: "%APP% of %PARENT_APP% for PR %PR_NUMBER%"},
			{Name: "REMOVED", Value: ptr("")},
			{Name: "ASKED"},
		},
		Addons: []Addon{
			{Provider: "redis", Plan: "redis-starter-256"},
			{Provider: "postgresql", Plan: "postgresql-starter-512", Version: "15.4.0-1"},
		},
		AddonsSet:   true,
		Formation:   map[string]Formation{"web": {1, "S"}, "worker": {0, "M"}},
		FirstDeploy: "bundle exec rake db:schema:load db:seed",
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", m, want)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		want  *Manifest // checked when field is ""
		field string
		msg   string // a part of the message
	}{
		{name: "empty object", in: `{}`, want: &Manifest{}},
		{name: "addons absent", in: `{"env":{}}`, want: &Manifest{}},
		{name: "addons empty is set", in: `{"addons":[]}`, want: &Manifest{Addons: []Addon{}, AddonsSet: true}},
		{name: "null value removes", in: `{"env":{"A":{"value":null}}}`, want: &Manifest{Env: []EnvVar{{Name: "A"}}}},
		{name: "env keeps file order", in: `{"env":{"Z":{"value":"1"},"A":{"value":"2"},"M":{"generator":"secret"}}}`,
			want: &Manifest{Env: []EnvVar{{Name: "Z", Value: ptr("1")}, {Name: "A", Value: ptr("2")}, {Name: "M", Generator: "secret"}}}},
		{name: "required as a string", in: `{"env":{"A":{"value":"1","required":"false"}}}`, want: &Manifest{Env: []EnvVar{{Name: "A", Value: ptr("1")}}}},
		{name: "amount zero", in: `{"formation":{"web":{"amount":0,"size":"2XL"}}}`, want: &Manifest{Formation: map[string]Formation{"web": {0, "2XL"}}}},
		{name: "amount ten", in: `{"formation":{"web":{"amount":10,"size":"XL"}}}`, want: &Manifest{Formation: map[string]Formation{"web": {10, "XL"}}}},
		{name: "copy_parent_database_urls false", in: `{"copy_parent_database_urls":"false"}`, want: &Manifest{}},

		{name: "form-only variable", in: `{"env":{"A":{"description":"asked by one-click"}}}`, want: &Manifest{Env: []EnvVar{{Name: "A"}}}},
		{name: "empty variable", in: `{"env":{"A":{}}}`, field: "env.A", msg: "value or a generator"},
		{name: "required form-only variable", in: `{"env":{"A":{"description":"d","required":true}}}`, field: "env.A.required"},
		{name: "unknown top-level key named", in: `{"formations":{}}`, field: "formations"},
		{name: "empty file", in: ``, msg: "not valid JSON"},
		{name: "null", in: `null`, msg: "must be an object"},
		{name: "trailing data", in: `{} {}`, msg: "data after"},
		{name: "invalid UTF-8", in: "{\"env\":{\"A\":{\"value\":\"\xff\"}}}", msg: "UTF-8"},
		{name: "duplicate env name", in: `{"env":{"A":{"value":"1"},"A":{"value":"2"}}}`, field: "env.A", msg: "twice"},
		{name: "duplicate top-level key", in: `{"addons":[],"addons":["redis:redis-sandbox"]}`, field: "addons", msg: "twice"},
		{name: "duplicate field in a variable", in: `{"env":{"A":{"generator":"secret","generator":"uuid"}}}`, field: "env.A.generator", msg: "twice"},
		{name: "env not an object", in: `{"env":["A"]}`, field: "env", msg: "object"},
		{name: "variable not an object", in: `{"env":{"A":"1"}}`, field: "env.A", msg: "object"},
		{name: "name too long", in: `{"env":{"` + strings.Repeat("A", 65) + `":{"value":"1"}}}`, field: "env[0]"},
		{name: "empty name", in: `{"env":{"":{"value":"1"}}}`, field: "env[0]"},
		{name: "value holds NUL", in: `{"env":{"A":{"value":"a\u0000b"}}}`, field: "env.A.value", msg: "NUL"},
		{name: "value a bool", in: `{"env":{"A":{"value":true}}}`, field: "env.A.value", msg: "string"},
		{name: "generator a number", in: `{"env":{"A":{"generator":1}}}`, field: "env.A.generator"},
		{name: "template with secret", in: `{"env":{"A":{"generator":"secret","template":"x"}}}`, field: "env.A.template"},
		{name: "template without generator", in: `{"env":{"A":{"template":"x"}}}`, field: "env.A.template"},
		{name: "template with value", in: `{"env":{"A":{"value":"1","template":"x"}}}`, field: "env.A.template"},
		{name: "unknown variable field", in: `{"env":{"A":{"value":"1","secret":true}}}`, field: "env.A.secret"},
		{name: "required not a bool", in: `{"env":{"A":{"value":"1","required":"yes"}}}`, field: "env.A.required"},
		{name: "amount negative", in: `{"formation":{"web":{"amount":-1,"size":"S"}}}`, field: "formation.web.amount"},
		{name: "amount huge", in: `{"formation":{"web":{"amount":1e9,"size":"S"}}}`, field: "formation.web.amount"},
		{name: "amount a string", in: `{"formation":{"web":{"amount":"1","size":"S"}}}`, field: "formation.web.amount"},
		{name: "amount missing", in: `{"formation":{"web":{"size":"S"}}}`, field: "formation.web.amount"},
		{name: "size missing", in: `{"formation":{"web":{"amount":1}}}`, field: "formation.web.size"},
		{name: "bad process type", in: `{"formation":{"-web":{"amount":1,"size":"S"}}}`, field: "formation.-web"},
		{name: "formation not an object", in: `{"formation":[]}`, field: "formation"},
		{name: "addon without plan", in: `{"addons":["postgresql:"]}`, field: "addons[0]"},
		{name: "addon upper case", in: `{"addons":["PostgreSQL:starter"]}`, field: "addons[0]"},
		{name: "addon object without plan", in: `{"addons":[{"options":{}}]}`, field: "addons[0].plan"},
		{name: "addon unknown field", in: `{"addons":[{"plan":"redis:redis-sandbox","region":"x"}]}`, field: "addons[0].region"},
		{name: "addon version a number", in: `{"addons":[{"plan":"redis:redis-sandbox","options":{"version":4}}]}`, field: "addons[0].options.version"},
		{name: "addon null", in: `{"addons":[null]}`, field: "addons[0]"},
		{name: "addons null", in: `{"addons":null}`, field: "addons"},
		{name: "provider twice", in: `{"addons":["redis:redis-sandbox","redis:redis-starter-256"]}`, field: "addons[1]", msg: "twice"},
		{name: "too many addons", in: `{"addons":[` + strings.Repeat(`"a:b",`, MaxAddons) + `"a:b"]}`, field: "addons", msg: "at most"},
		{name: "postdeploy", in: `{"scripts":{"postdeploy":"rake"}}`, field: "scripts.postdeploy", msg: "Procfile"},
		{name: "unknown script", in: `{"scripts":{"first_deploy":"rake"}}`, field: "scripts.first_deploy"},
		{name: "stack unknown", in: `{"stack":"ubuntu"}`, field: "stack"},
		{name: "name a number", in: `{"name":1}`, field: "name"},
		{name: "copy_parent_database_urls true", in: `{"copy_parent_database_urls":true}`, field: "copy_parent_database_urls", msg: "copy-env"},
		{name: "too large", in: `{"name":"` + strings.Repeat("x", MaxSize) + `"}`, msg: "larger than"},
		{name: "deep nesting in options", in: `{"addons":[{"plan":"a:b","options":{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}]}`, msg: "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.in))
			if tc.want != nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(m, tc.want) {
					t.Errorf("Parse =\n%#v\nwant\n%#v", m, tc.want)
				}
				return
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, %v; want an *Error", m, err)
			}
			if me.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", me.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// TestNoEcho: the manifest is the pull request's, and a value may be a secret pasted in the
// wrong place; no message quotes one.
func TestNoEcho(t *testing.T) {
	const secret = "s3cr3t-token-value-0123456789"
	for _, in := range []string{
		`{"env":{"A":{"generator":"` + secret + `"}}}`,
		`{"env":{"` + secret + ` x":{"value":"1"}}}`,
		`{"` + secret + `":1}`,
		`{"stack":"` + secret + `"}`,
		`{"addons":["` + secret + `"]}`,
		`{"addons":[{"plan":"a:b","options":{"version":"` + secret + `!"}}]}`,
		`{"formation":{"web":{"amount":1,"size":"` + secret + `"}}}`,
		`{"formation":{"` + secret + `!":{"amount":1,"size":"S"}}}`,
		`{"env":{"A":{"value":"` + secret + `"}}} ` + secret,
	} {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Errorf("Parse(%s) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("message quotes the input: %v", err)
		}
	}
}

func TestValues(t *testing.T) {
	m, err := Parse([]byte(`{"env":{
		"PLAIN":{"value":"v"},
		"EMPTY":{"value":""},
		"NULL":{"value":null},
		"ASKED":{"description":"form only","required":false},
		"S1":{"generator":"secret"},
		"S2":{"generator":"secret"},
		"U":{"generator":"url"},
		"UT":{"generator":"url","template":"%URL%/api?app=%APP%"},
		"T":{"generator":"template","template":"%APP%|%PARENT_APP%|%PR_NUMBER%|%URL%|%OTHER%|%%"}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	random := bytes.NewReader(append(bytes.Repeat([]byte{0xab}, 16), bytes.Repeat([]byte{0x01}, 16)...))
	// A URL holding a token must not be substituted again.
	c := Context{App: "web-pr7", ParentApp: "web", URL: "https://web-pr7.osc-fr1.scalingo.io/%APP%", PRNumber: 7}
	got, err := m.Values(c, random)
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{
		{"PLAIN", "v"},
		{"S1", strings.Repeat("ab", 16)},
		{"S2", strings.Repeat("01", 16)},
		{"U", "https://web-pr7.osc-fr1.scalingo.io/%APP%"},
		{"UT", "https://web-pr7.osc-fr1.scalingo.io/%APP%/api?app=web-pr7"},
		{"T", "web-pr7|web|7|https://web-pr7.osc-fr1.scalingo.io/%APP%|%OTHER%|%%"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Values =\n%q\nwant\n%q", got, want)
	}
}

func TestValuesErrors(t *testing.T) {
	t.Run("random fails", func(t *testing.T) {
		m := &Manifest{Env: []EnvVar{{Name: "S", Generator: "secret"}}}
		_, err := m.Values(Context{}, iotest.ErrReader(errors.New("no entropy")))
		if err == nil || !strings.Contains(err.Error(), "S") {
			t.Errorf("Values = %v", err)
		}
	})
	t.Run("random short", func(t *testing.T) {
		m := &Manifest{Env: []EnvVar{{Name: "S", Generator: "secret"}}}
		if _, err := m.Values(Context{}, bytes.NewReader(make([]byte, 15))); err == nil {
			t.Error("a short read made a secret")
		}
	})
	t.Run("template grows past the limit", func(t *testing.T) {
		tpl := strings.Repeat("%URL%", 1000)
		m, err := Parse([]byte(`{"env":{"BIG":{"generator":"template","template":"` + tpl + `"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Values(Context{URL: "https://a-long-enough-name.osc-fr1.scalingo.io"}, bytes.NewReader(nil))
		var me *Error
		if !errors.As(err, &me) || me.Field != "env.BIG" {
			t.Errorf("Values = %v, want an *Error on env.BIG", err)
		}
	})
}

func TestParseAddon(t *testing.T) {
	for in, ok := range map[string]bool{
		"postgresql:postgresql-starter-512": true,
		"redis:redis-sandbox":               true,
		"postgresql":                        false,
		":plan":                             false,
		"a:b:c":                             false,
		"a :b":                              false,
		"../x:y":                            false,
		"a:b?x=1":                           false,
	} {
		_, err := ParseAddon(in)
		if (err == nil) != ok {
			t.Errorf("ParseAddon(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}
