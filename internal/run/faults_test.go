package run

import (
	"cmp"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// The fault-injection suite (RELIABILITY.md): each row breaks one thing the network or
// the API can break, and the run must still end with exactly one deployment or a clear
// error — never two deployments, never a temp file left, never a secret in the output.
func TestFaults(t *testing.T) {
	t.Parallel()
	const deployments = "/v1/apps/my-app/deployments"
	tests := []struct {
		name   string
		faults []fakescalingo.Fault
		opts   fakescalingo.Options
		code   int
		// deployments is how many the fake must hold at the end.
		deployments int
		// check runs extra assertions on the fake's request log.
		check func(t *testing.T, w *world, res result)
		// callTimeout bounds each API call; 0 means 2s, never reached.
		callTimeout time.Duration
	}{
		{name: "429 then OK on every kind of call", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "/v1/tokens/exchange", Status: 429, RetryAfter: "2"},
			{Method: "GET", Path: "/v1/apps/my-app", Status: 429},
			{Path: "/v1/sources", Status: 429},
			{Method: "POST", Path: deployments, Status: 429, RetryAfter: "1"},
		}},
		{name: "500, 502, 503 bursts on each call", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "/v1/tokens/exchange", Status: 500, Times: 2},
			{Method: "GET", Path: "/v1/apps/my-app", Status: 502, Times: 3},
			{Path: "/v1/sources", Status: 503, Times: 3},
			{Path: "storage", Status: 503, Times: 2},
			{Method: "POST", Path: deployments, Status: 500, Times: 2},
			{Method: "GET", Path: deployments + "/", Status: 502, Times: 3},
		}},
		{name: "4xx is not retried", code: 1, deployments: 0, faults: []fakescalingo.Fault{
			{Path: "/v1/sources", Status: 403, Times: -1},
		}, check: func(t *testing.T, w *world, res result) {
			if n := count(w, "api", "POST", "/v1/sources"); n != 1 {
				t.Errorf("POST /v1/sources sent %d times, want 1", n)
			}
		}},
		{name: "API down for good", code: 1, deployments: 0, faults: []fakescalingo.Fault{
			{Path: "/v1/sources", Status: 503, Times: -1},
		}, check: func(t *testing.T, w *world, res result) {
			if !strings.Contains(res.stderr, "gave up after 6 attempts") {
				t.Errorf("stderr: %s", res.stderr)
			}
		}},
		{name: "connection reset mid-upload", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "storage", ResetMidBody: true},
		}},
		{name: "upload answered by a 307 to the storage", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "storage", Redirect: "307"},
		}, check: redirectedPUTs},
		{name: "upload answered by a 301 with Location", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "storage", Redirect: "301"},
		}, check: redirectedPUTs},
		{name: "upload answered by a 302 with Location", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "storage", Redirect: "302"},
		}, check: redirectedPUTs},
		{name: "expired signed URL: a new source", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Path: "storage", Expired: true},
		}, check: func(t *testing.T, w *world, res result) {
			if n := count(w, "api", "POST", "/v1/sources"); n != 2 {
				t.Errorf("%d sources created, want 2", n)
			}
		}},
		{name: "lost response to the deployment POST: adopted, not doubled", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Method: "POST", Path: deployments, DropResponse: true},
		}, check: func(t *testing.T, w *world, res result) {
			if !strings.Contains(res.stdout, "was created; following it") {
				t.Errorf("no adoption message:\n%s", res.stdout)
			}
		}},
		{name: "lost response to the deployment POST, then the list fails once", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Method: "POST", Path: deployments, DropResponse: true},
			{Method: "GET", Path: deployments, After: 1, Status: 503},
		}},
		{name: "lost response to the deployment POST, then the list fails for good: no second POST", code: 1, deployments: 1, faults: []fakescalingo.Fault{
			{Method: "POST", Path: deployments, DropResponse: true},
			{Method: "GET", Path: deployments, After: 1, Status: 503, Times: -1},
		}, check: func(t *testing.T, w *world, res result) {
			if n := count(w, "api", "POST", deployments); n != 1 {
				t.Errorf("the deployment POST was sent %d times, want 1", n)
			}
			if !strings.Contains(res.stderr, "could not list the deployments to tell whether it was created") {
				t.Errorf("stderr: %s", res.stderr)
			}
		}},
		{name: "deployment POST timed out: looked for, never sent again", code: 1, deployments: 0, callTimeout: 100 * time.Millisecond,
			faults: []fakescalingo.Fault{{Method: "POST", Path: deployments, Block: make(chan struct{})}},
			check: func(t *testing.T, w *world, res result) {
				if n := count(w, "api", "POST", deployments); n != 1 {
					t.Errorf("the deployment POST was sent %d times, want 1", n)
				}
				if !strings.Contains(res.stderr, "may have been created all the same") {
					t.Errorf("stderr: %s", res.stderr)
				}
			}},
		{name: "status polls refused (404): exit 1, not a wait until the timeout", code: 1, deployments: 1, faults: []fakescalingo.Fault{
			{Method: "GET", Path: deployments + "/", Status: 404, Times: -1},
		}, check: func(t *testing.T, w *world, res result) {
			if n := count(w, "api", "GET", deployments+"/"+w.fake.Deployments("my-app")[0].ID); n != 1 {
				t.Errorf("%d status polls, want 1", n)
			}
		}},
		{name: "JWT expiring mid-wait is renewed", code: 0, deployments: 1,
			opts:   fakescalingo.Options{JWTLifetime: 8 * time.Minute},
			faults: []fakescalingo.Fault{},
			check: func(t *testing.T, w *world, res result) {
				if n := count(w, "auth", "POST", "/v1/tokens/exchange"); n < 2 {
					t.Errorf("%d token exchanges, want a renewal", n)
				}
			}},
		{name: "slow API within the call timeout", code: 0, deployments: 1, faults: []fakescalingo.Fault{
			{Method: "GET", Path: "/v1/apps/my-app", Delay: 20 * time.Millisecond},
		}},
		{name: "slow API beyond the call timeout", code: 1, deployments: 0, callTimeout: 50 * time.Millisecond, faults: []fakescalingo.Fault{
			{Path: "/v1/sources", Block: make(chan struct{}), Times: -1},
		}, check: func(t *testing.T, w *world, res result) {
			if !strings.Contains(res.stderr, "create a source") || !strings.Contains(res.stderr, "gave up after 6 attempts") {
				t.Errorf("stderr: %s", res.stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tt.opts)
			w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps, QueuedPolls: 60})
			for _, f := range tt.faults {
				w.fake.Inject(f)
			}
			e := w.env("gitlab")
			tmp := t.TempDir()
			e["TMPDIR"] = tmp
			res := w.runWith(t, context.Background(), e, func(o *scalingo.Options) {
				o.CallTimeout = cmp.Or(tt.callTimeout, 2*time.Second)
			})
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if n := len(w.fake.Deployments("my-app")); n != tt.deployments {
				t.Errorf("%d deployments, want %d\nstdout:\n%s", n, tt.deployments, res.stdout)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			for _, r := range w.fake.Requests() {
				if r.Server == "storage" && r.HadAuthorization {
					t.Errorf("an Authorization header went to the storage: %+v", r)
				}
			}
			hits := 0
			for _, r := range w.fake.Requests() {
				if r.Fault != "" {
					hits++
				}
			}
			if hits < len(tt.faults) {
				t.Errorf("only %d requests met a fault, %d were injected: the row tests nothing", hits, len(tt.faults))
			}
			assertNoSecrets(t, w, res, false)
			if tt.check != nil {
				tt.check(t, w, res)
			}
		})
	}
}

func redirectedPUTs(t *testing.T, w *world, res result) {
	t.Helper()
	for _, r := range w.fake.Requests() {
		if r.Server == "storage" && r.Method != http.MethodPut {
			t.Errorf("the upload became a %s: %+v", r.Method, r)
		}
	}
	dep := w.fake.Deployments("my-app")
	if len(dep) == 1 && (dep[0].Archive == nil || len(dep[0].Archive.Names()) == 0) {
		t.Error("the builder found no archive: the redirected upload did not land")
	}
}

func count(w *world, server, method, path string) int {
	n := 0
	for _, r := range w.fake.Requests() {
		if r.Server == server && r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// TestFaults_HangingPollTimesOut: when the status polls hang (each retried within its
// own call timeout), the wait still ends at the timeout with exit 3, not minutes later
// with an API error. The timeout here is a real 200 ms: this is the real-time bound behind
// the fake clock's.
func TestFaults_HangingPollTimesOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps})
	w.fake.Inject(fakescalingo.Fault{Method: "GET", Path: "/v1/apps/my-app/deployments/", Block: make(chan struct{}), Times: -1})
	e := w.env("gitlab", "SCALINGO_TIMEOUT", "200ms")
	res := w.runWith(t, context.Background(), e, func(o *scalingo.Options) { o.CallTimeout = time.Minute })
	if res.code != 3 || !strings.Contains(res.stderr, "after 200ms: this run stopped waiting") {
		t.Fatalf("exit %d, want 3\nstderr:\n%s", res.code, res.stderr)
	}
	out := readDotenv(t, w.ws+"/scalingo-deploy.env")
	if out["SCALINGO_DEPLOYMENT_STATUS"] != "building" {
		t.Errorf("outputs %v", out)
	}
}

// cancelOn is a transport that cancels the run, as SIGTERM would, when a request to
// path is about to be sent.
type cancelOn struct {
	base   http.RoundTripper
	method string
	path   string
	cancel context.CancelCauseFunc
	once   sync.Once
}

func (c *cancelOn) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == c.method && strings.HasPrefix(req.URL.Path, c.path) {
		c.once.Do(func() { c.cancel(&SignalError{Signal: syscall.SIGTERM}) })
	}
	return c.base.RoundTrip(req)
}

// TestSIGTERM cancels the run at each stage: it must stop with 143, say what was done,
// leave no temp file, and write the outputs known so far.
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		method, path  string
		deployments   int
		message       string
		outputsStatus string
	}{
		{name: "before anything", message: "no deployment was created"},
		{name: "at the token exchange", method: "POST", path: "/v1/tokens/exchange", message: "no deployment was created"},
		{name: "at the source", method: "POST", path: "/v1/sources", message: "no deployment was created"},
		{name: "during the upload", method: "PUT", path: "/", message: "no deployment was created"},
		// The POST is cut off as it is sent: whether it reached the API is not known.
		{name: "at the deployment POST", method: "POST", path: "/v1/apps/my-app/deployments", message: "a deployment may have been created all the same"},
		{name: "while waiting", method: "GET", path: "/v1/apps/my-app/deployments/", deployments: 1, message: "was created and goes on at Scalingo", outputsStatus: "queued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakescalingo.Options{})
			w.fake.AddApp("my-app", fakescalingo.Scenario{Log: sixSteps, QueuedPolls: 5})
			e := w.env("gitlab")
			tmp := t.TempDir()
			e["TMPDIR"] = tmp
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tt.path == "" {
				cancel(&SignalError{Signal: syscall.SIGTERM})
			}
			res := w.runWith(t, ctx, e, func(o *scalingo.Options) {
				o.Transport = &cancelOn{base: http.DefaultTransport, method: tt.method, path: tt.path, cancel: cancel}
			})
			if res.code != 143 {
				t.Fatalf("exit %d, want 143\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, "interrupted by SIGTERM") || !strings.Contains(res.stderr, tt.message) {
				t.Errorf("stderr %q lacks %q", res.stderr, tt.message)
			}
			if n := len(w.fake.Deployments("my-app")); n != tt.deployments {
				t.Errorf("%d deployments, want %d", n, tt.deployments)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if tt.outputsStatus != "" {
				out := readDotenv(t, w.ws+"/scalingo-deploy.env")
				if out["SCALINGO_DEPLOYMENT_STATUS"] != tt.outputsStatus || out["SCALINGO_DEPLOYMENT_ID"] == "" {
					t.Errorf("outputs %v", out)
				}
			}
		})
	}
}

// TestFaults_LostCreationWithoutGitRef: with no git ref anywhere, the run makes one up,
// so a lost creation is still told apart from anyone else's deployment.
func TestFaults_LostCreationWithoutGitRef(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakescalingo.Options{})
	w.fake.AddApp("my-app", fakescalingo.Scenario{})
	w.fake.Inject(fakescalingo.Fault{Method: "POST", Path: "/v1/apps/my-app/deployments", DropResponse: true})
	e := w.env("gitlab")
	delete(e, "CI_COMMIT_SHA")
	res := w.run(t, context.Background(), e)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	deps := w.fake.Deployments("my-app")
	if len(deps) != 1 || deps[0].GitRef == nil || !strings.HasPrefix(*deps[0].GitRef, "deploy-") {
		t.Fatalf("deployments %+v", deps)
	}
	if out := readDotenv(t, w.ws+"/scalingo-deploy.env"); out["SCALINGO_GIT_REF"] != *deps[0].GitRef {
		t.Errorf("git ref output %q, want %q", out["SCALINGO_GIT_REF"], *deps[0].GitRef)
	}
}
