package run

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/deploy"
	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/s3test"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/simclock"
)

// fakeClock is a fake clock: After fires at once and moves time on, so a run that polls
// every 5 s for 40 minutes takes no real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// world is a fake Scalingo on a real S3 server, and a workspace to deploy.
type world struct {
	fake  *fakescalingo.Server
	s3    *s3test.Server
	ws    string
	clock *fakeClock
	// observers watch the deploy's events (deploy.Observer), besides the run's own.
	observers []deploy.Observer
	// sim, when set, is the run's clock instead of clock: it moves only while the run
	// is at rest (simWorld).
	sim *simclock.Sim
}

// simWorld is a world whose run and fake share a clock that moves only while the run
// is at rest (simclock), not at every wait of any goroutine: for tests whose verdict
// depends on when each request reaches the fake.
func simWorld(t *testing.T, opts fakescalingo.Options) *world {
	t.Helper()
	sc := simclock.New(time.Now())
	w := newWorldWith(t, func(o *fakescalingo.Options, _ *fakeClock) {
		*o = opts
		o.Now = sc.Clock.Now
		o.StreamConn = sc.ServerConn
	})
	sc.Watch(w.fake.StreamURL, w.fake.StreamBusy)
	sc.Step = w.fake.Tick
	w.sim = sc
	return w
}

func newWorld(t *testing.T, opts fakescalingo.Options) *world {
	t.Helper()
	return newWorldWith(t, func(o *fakescalingo.Options, _ *fakeClock) { *o = opts })
}

// newWorldWith lets the test set the fake's options knowing the run's clock (to share it
// with the fake).
func newWorldWith(t *testing.T, set func(*fakescalingo.Options, *fakeClock)) *world {
	t.Helper()
	w := &world{clock: newClock()}
	var opts fakescalingo.Options
	set(&opts, w.clock)
	if opts.Storage == nil {
		w.s3 = s3test.Start(t)
		opts.Storage = w.s3
	}
	fake, err := fakescalingo.Start(opts)
	if err != nil {
		t.Fatalf("start the fake: %v", err)
	}
	t.Cleanup(fake.Close)
	w.fake = fake
	w.ws = t.TempDir()
	writeTree(t, w.ws, map[string]string{
		"Procfile":              "web: bin/server\n",
		"bin/server":            "#!/bin/sh\nexec ./app\n",
		"src/main.go":           "package main\n",
		".gitignore":            "*.log\n/tmp/\n",
		"debug.log":             "noise\n",
		"tmp/cache":             "cache\n",
		".git/HEAD":             "ref: refs/heads/main\n",
		".git/config":           "[core]\n",
		"sub/.git":              "gitdir: ../.git/modules/sub\n",
		"sub/lib.txt":           "lib\n",
		"web/static/style.css":  "body{}\n",
		"web/static/.gitignore": "*.map\n",
		"web/static/style.map":  "{}\n",
	})
	os.Chmod(filepath.Join(w.ws, "bin/server"), 0o755)
	return w
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// env returns the variables a platform would set, pointing at the fake.
func (w *world) env(platform string, extra ...string) env {
	e := env{
		"SCALINGO_API_URL":  w.fake.APIURL,
		"SCALINGO_AUTH_URL": w.fake.AuthURL,
		"TMPDIR":            os.TempDir(),
	}
	switch platform {
	case "github":
		e["GITHUB_ACTIONS"], e["CI"] = "true", "true"
		e["GITHUB_WORKSPACE"], e["GITHUB_SHA"] = w.ws, "0123456789abcdef0123456789abcdef01234567"
		e["INPUT_API-TOKEN"], e["INPUT_APP"] = w.fake.APIToken, "my-app"
		e["INPUT_PATH"], e["INPUT_WAIT"], e["INPUT_EXCLUDE"] = "", "", "" // omitted inputs arrive empty
	case "gitlab":
		e["GITLAB_CI"], e["CI"] = "true", "true"
		e["CI_PROJECT_DIR"], e["CI_COMMIT_SHA"] = w.ws, "1111111111111111111111111111111111111111"
		e["SCALINGO_API_TOKEN"], e["SCALINGO_APP"] = w.fake.APIToken, "my-app"
	case "woodpecker":
		e["CI"], e["CI_SYSTEM_NAME"], e["DRONE"] = "woodpecker", "woodpecker", "true"
		e["CI_WORKSPACE"], e["CI_COMMIT_SHA"] = w.ws, "2222222222222222222222222222222222222222"
		e["PLUGIN_API_TOKEN"], e["PLUGIN_APP"] = w.fake.APIToken, "my-app"
	case "drone":
		e["DRONE"], e["CI"] = "true", "true"
		e["DRONE_WORKSPACE"], e["DRONE_COMMIT_SHA"] = w.ws, "3333333333333333333333333333333333333333"
		e["CI_WORKSPACE"], e["CI_COMMIT_SHA"] = w.ws, "3333333333333333333333333333333333333333"
		e["PLUGIN_API-TOKEN"], e["PLUGIN_APP"] = w.fake.APIToken, "my-app"
	case "shell":
		e["SCALINGO_API_TOKEN"], e["SCALINGO_APP"] = w.fake.APIToken, "my-app"
		e["SCALINGO_PATH"], e["SCALINGO_GIT_REF"] = w.ws, "v1.2.3"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i]] = extra[i+1]
	}
	return e
}

type result struct {
	code           int
	stdout, stderr string
}

func (w *world) run(t *testing.T, ctx context.Context, e env, args ...string) result {
	t.Helper()
	return w.runWith(t, ctx, e, nil, args...)
}

// runWith runs with the fake clock and lets the test adjust the client's options.
func (w *world) runWith(t *testing.T, ctx context.Context, e env, client func(*scalingo.Options), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	h := hooks{
		clock: w.clock,
		// The stream's reconnect backoff has a clock of its own: a reconnect wait must
		// not move the poller's time.
		streamClock: newClock(),
		clientOpts: func(o *scalingo.Options) {
			if client != nil {
				client(o)
			}
		},
		observers: w.observers,
	}
	if w.sim == nil {
		err := runWith(ctx, args, e.get, &stdout, &stderr, h)
		return result{code: ExitCode(err), stdout: stdout.String(), stderr: stderr.String()}
	}
	h.clock = w.sim.Clock
	h.clientOpts = func(o *scalingo.Options) {
		o.Transport = w.sim
		if client != nil {
			client(o)
		}
	}
	var err error
	if serr := w.sim.Run(func(ctx context.Context) error {
		err = runWith(ctx, args, e.get, &stdout, &stderr, h)
		return nil
	}); serr != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", serr, stdout.String(), stderr.String())
	}
	return result{code: ExitCode(err), stdout: stdout.String(), stderr: stderr.String()}
}

// readDotenv parses a dotenv file by GitLab's rules, failing on anything GitLab refuses
// (quotes are kept literally, so a value may hold some, as the deployments JSON does,
// but one that starts with a quote would read as quoted).
func readDotenv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the output file: %v", err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		k, v, ok := strings.Cut(line, "=")
		if !ok || line == "" || strings.HasPrefix(line, "#") || strings.ContainsAny(v[:min(1, len(v))], `"'`) || strings.ContainsAny(k, "-. ") {
			t.Errorf("dotenv line %q breaks GitLab's rules", line)
		}
		out[k] = v
	}
	return out
}

// readGitHubOutputs parses GITHUB_OUTPUT as the runner does (name=value and heredocs).
func readGitHubOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read GITHUB_OUTPUT: %v", err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("GITHUB_OUTPUT: delimiter %q not found", delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out
}
