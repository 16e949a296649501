package fakescalingo

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Scenario says how an app's deployments go. The zero value is a normal
// successful build with a 6-step buildpack log.
type Scenario struct {
	// FinalStatus is the status deployments end with: "" means "success";
	// also build-error, crashed-error, timeout-error, hook-error, aborted, or
	// any unknown string (which then never changes).
	FinalStatus string
	// Log is the build log, one line per element; nil means a realistic
	// default for FinalStatus.
	Log []string
	// QueuedPolls keeps deployments "queued" for this many status GETs.
	QueuedPolls int
	// NeverFinish keeps deployments "building" forever.
	NeverFinish bool
	// BuildTime, when set, moves deployments with the fake's clock (Options.Now) instead
	// of with the status GETs: their states are spread evenly over BuildTime from the
	// creation, the final one reached at BuildTime, as a real build takes its time
	// whoever looks. The fake has no timer: it catches up on every API request and on
	// Tick (the fake command calls it on a ticker).
	BuildTime time.Duration
	// URL is the app's "url"; default https://<name>.<region>.scalingo.io.
	URL string

	// DropStreamAfter closes the app's first stream connection abnormally
	// (no close frame) after that many events (pings not counted); 0 never.
	DropStreamAfter int
	// NoFinalStreamStatus never sends a terminal "status" event on the stream.
	NoFinalStreamStatus bool
	// OtherDeploymentEvents interleaves, on the stream, events of another
	// deployment: a "new", a "log" before each log line, and an opposite
	// terminal "status" before each terminal status.
	OtherDeploymentEvents bool
	// NewEventShape is "doc" ({"deployment":"<id>"}), "cli" (the full
	// deployment object), or "" for both, doc first.
	NewEventShape string
	// NoStream makes links.deployments_stream refuse the WebSocket upgrade.
	NoStream bool

	// Region is the region the app lives in; "" means Options.Region. The
	// app is 404 on every other region's API. Ignored for a child app, which
	// lives in its parent's region.
	Region string
	// Parent makes an added app a child of that app (parent_app_name), as
	// if a client had created it; it then lives in the parent's region when
	// the parent is known. Ignored for apps a client creates.
	Parent string
	// Variables are set on the app when it is added (created or updated,
	// as PUT /variables does); ignored for apps a client creates.
	Variables map[string]string
	// Deployed gives an added app one successful deployment made at the
	// fake's Now (its last_deployed_at), whose archive's Procfile names the
	// types of Formation (web without one). Adding the app again with
	// Deployed makes one more. Ignored for apps a client creates.
	Deployed bool
	// Formation is set as an added app's formation; ignored for apps a
	// client creates.
	Formation map[string]Container
	// Age dates an added app's creation, and its Deployed deployment, that
	// long before the fake's Now, so that a fake on the wall clock (the fake
	// command) can hold stale review apps. Ignored for apps a client creates,
	// and for an app added again (its creation stays).
	Age time.Duration
	// Serve runs the app on 127.0.0.1 (see AppServer); its URL becomes the
	// app's "url" and "base_url" unless URL is set.
	Serve *AppServer
	// FreeTrialExceeded makes creating a child of this app answer 402, as
	// for an owner still on the free trial.
	FreeTrialExceeded bool
	// ChildrenInheritVariables gives a child created through the API a copy of this
	// app's variables, as Scalingo's child-apps doc said until 2023 (review-apps.md
	// §1.2): a client must not assume a new child is empty.
	ChildrenInheritVariables bool
	// ChildrenInheritAddons gives a child created through the API an addon of each
	// provider and plan this app has, and that addon's variable with this app's value,
	// as the same doc said: a client must not assume a new child has no addon.
	ChildrenInheritAddons bool
	// AddonRemovalPolls keeps a removed addon of this app listed (and its variable set)
	// for that many GETs of the app's addons after DELETE answered 204, as a
	// deprovisioning that outlasts its answer would.
	AddonRemovalPolls int
	// AddonPolls is how many GETs (list or show) an addon of this app
	// answers "provisioning" before "running"; 0: running at once.
	AddonPolls int
	// ScalePolls is how many GETs of a scale operation answer "running"
	// before it ends; ScaleError makes it end "error" with that text (the
	// formation then stays as it was).
	ScalePolls int
	ScaleError string
}

// Deployment is a snapshot of a deployment the fake created.
type Deployment struct {
	ID        string
	App       string
	AppID     string
	SourceURL string
	GitRef    *string // nil when the request sent null or nothing
	Status    string
	Log       string // the log so far, as links.output serves it
	Polls     int    // status GETs so far
	CreatedAt time.Time
	// PostdeployHook is the request's postdeploy_hook; nil when absent or null.
	PostdeployHook *string
	// Env is the app's variables when the deployment was created.
	Env map[string]string
	// Addons are the app's addons when the deployment was created.
	Addons []Addon
	// Archive is what the builder fetched from SourceURL; nil until the
	// deployment entered "building".
	Archive *Archive
}

// Archive is what the fake builder found at a deployment's source_url.
type Archive struct {
	ContentType      string
	CompressedSize   int64
	UncompressedSize int64 // bytes of the tar stream
	Entries          []Entry
	// Err is the "Fail to fetch source code: …" line when the fetch or a
	// check failed; "" when the archive was accepted.
	Err string
}

// Entry is one tar entry.
type Entry struct {
	Name     string
	Typeflag byte // tar.TypeReg, tar.TypeDir, tar.TypeSymlink…
	Mode     fs.FileMode
	Size     int64
	Linkname string
	Content  []byte // regular files up to 1 MiB
}

// Names returns the entries' names, in archive order.
func (a *Archive) Names() []string {
	var names []string
	for _, e := range a.Entries {
		names = append(names, e.Name)
	}
	return names
}

// Entry returns the entry called name.
func (a *Archive) Entry(name string) (Entry, bool) {
	for _, e := range a.Entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

type app struct {
	name, id string
	region   string
	parent   string // the parent's name for a child app
	isNew    bool   // created through the API: "new" until deployed
	sc       Scenario
	deps     []*deployment
	subs     map[*subscriber]struct{}
	dropped  bool // the DropStreamAfter knob has fired
	created  time.Time

	vars      []*variable
	addons    []*addon
	formation map[string]Container
	ops       []*operation
	web       *httptest.Server // Scenario.Serve
	webHits   int
}

type deployment struct {
	id        string
	app       *app
	sourceURL string
	gitRef    *string
	prevRef   *string
	hook      *string
	env       map[string]string
	addons    []Addon
	createdAt time.Time

	advance   sync.Mutex // serializes moves (and the source fetch)
	buildTime time.Duration
	states    []string
	chunks    [][]string
	state     int
	fetched   bool

	// guarded by Server.mu
	status     string
	log        []string
	polls      int
	finishedAt time.Time
	archive    *Archive
}

// AddApp makes an app known (by name, and by its id in URLs), owned by the
// user of Options.APIToken, in sc.Region. Adding a name again replaces its
// scenario (region included) for what happens next.
func (s *Server) AddApp(name string, sc Scenario) {
	s.mu.Lock()
	defer s.mu.Unlock()
	region := s.regionName(sc.Region)
	if p := s.apps[sc.Parent]; p != nil {
		region = p.region
	}
	a, ok := s.apps[name]
	if ok {
		a.sc = sc
		a.region, a.parent = region, sc.Parent
		s.startWeb(a)
	} else {
		a = s.newApp(name, region, sc.Parent, sc)
		a.created = a.created.Add(-sc.Age)
	}
	for _, k := range slices.Sorted(maps.Keys(sc.Variables)) {
		a.setVar(k, sc.Variables[k])
	}
	s.seed(a, sc)
}

// PlanApp sets the scenario of an app that a client will create (a child
// app); PlanApp("", sc) sets it for every created app without a plan of its
// own. Without either, a created app has the zero Scenario.
func (s *Server) PlanApp(name string, sc Scenario) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planned[name] = sc
}

// newApp registers an app. The caller holds s.mu.
func (s *Server) newApp(name, region, parent string, sc Scenario) *app {
	sum := sha256.Sum256([]byte(name))
	a := &app{name: name, id: hex.EncodeToString(sum[:12]), region: region, parent: parent, sc: sc,
		subs: map[*subscriber]struct{}{}, created: s.now(), formation: map[string]Container{}}
	s.apps[name] = a
	s.apps[a.id] = a
	s.startWeb(a)
	return a
}

func (s *Server) regionName(name string) string {
	if name == "" {
		return s.opts.Region
	}
	return name
}

// App is a snapshot of an app the fake knows.
type App struct {
	Name, ID string
	Region   string
	Parent   string // parent app's name for a child app, else ""
	URL      string
	// Variables are the app's environment variables by name.
	Variables map[string]string
	Addons    []Addon
	// Formation is the containers by type, as scale operations left them.
	Formation map[string]Container
}

// Addon is a snapshot of a provisioned addon.
type Addon struct {
	ID, Provider, PlanID, PlanName string
	Status                         string // provisioning, running
	Polls                          int
}

// Container is one container type's formation.
type Container struct {
	Amount int
	Size   string
}

// App returns a snapshot of the app called name (or with that id); false
// when there is none (never added, or deleted).
func (s *Server) App(name string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return App{}, false
	}
	out := App{Name: a.name, ID: a.id, Region: a.region, Parent: a.parent, URL: s.appURL(a),
		Variables: a.env(), Formation: maps.Clone(a.formation), Addons: addonsOf(a)}
	return out, true
}

// Deleted returns the names of the apps a client deleted, in order.
func (s *Server) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deleted)
}

// Deployments returns snapshots of app's deployments in creation order.
func (s *Server) Deployments(appName string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appName]
	if a == nil {
		return nil
	}
	var out []Deployment
	for _, d := range a.deps {
		out = append(out, s.snapshot(d))
	}
	return out
}

func (s *Server) snapshot(d *deployment) Deployment {
	out := Deployment{
		ID: d.id, App: d.app.name, AppID: d.app.id, SourceURL: d.sourceURL,
		Status: d.status, Log: logText(d.log), Polls: d.polls, CreatedAt: d.createdAt,
		Env: maps.Clone(d.env), Addons: slices.Clone(d.addons),
	}
	if d.hook != nil {
		h := *d.hook
		out.PostdeployHook = &h
	}
	if d.gitRef != nil {
		r := *d.gitRef
		out.GitRef = &r
	}
	if d.archive != nil {
		a := *d.archive
		a.Entries = slices.Clone(a.Entries)
		out.Archive = &a
	}
	return out
}

func logText(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func (sc Scenario) final() string {
	if sc.FinalStatus == "" {
		return "success"
	}
	return sc.FinalStatus
}

func (s *Server) appURL(a *app) string {
	if a.sc.URL != "" {
		return a.sc.URL
	}
	if a.web != nil {
		return a.web.URL
	}
	return "https://" + a.name + "." + a.region + ".scalingo.io"
}

// plan returns a deployment's states and the log lines appended on entering each.
func plan(sc Scenario, lines []string) (states []string, chunks [][]string) {
	if sc.QueuedPolls > 0 {
		for range sc.QueuedPolls + 1 {
			states = append(states, "queued")
			chunks = append(chunks, nil)
		}
	}
	var work []string
	switch f := sc.final(); {
	case sc.NeverFinish:
		work = []string{"building"}
	case f == "build-error" || f == "aborted":
		work = []string{"building", f}
	default:
		work = []string{"building", "pushing", "starting", f}
	}
	n, m := len(lines), len(work)
	for j, st := range work {
		states = append(states, st)
		chunks = append(chunks, lines[j*n/m:(j+1)*n/m])
	}
	return states, chunks
}

func isTerminal(status string) bool {
	switch status {
	case "queued", "building", "pushing", "starting":
		return false
	}
	return true
}

// defaultLog is a realistic buildpack log ending the way final says.
func defaultLog(appName, url, final string) []string {
	lines := []string{
		"<-- Start deployment of " + appName + " -->",
		"-----> Fetching source code",
		"-----> Go app detected",
		"-----> Installing go1.24.4... done",
		"-----> Running: go install -v -tags heroku ./...",
	}
	switch final {
	case "build-error":
		return append(lines,
			"       ./main.go:12:2: undefined: handler",
			" !     Push rejected, failed to compile Go app.",
			" !     Error while running the buildpack")
	case "aborted":
		return append(lines,
			"       github.com/example/app",
			" !     Deployment aborted: the connection with the builder was lost")
	}
	lines = append(lines,
		"       github.com/example/app",
		"-----> Build complete, shipping your container...",
		"-----> Pushing image to the registry",
		" Waiting for your application to boot...")
	switch final {
	case "success":
		return append(lines, " <-- "+url+" -->")
	case "crashed-error":
		return append(lines, " !   Error deploying the application", " !   → Your application has crashed while starting")
	case "timeout-error":
		return append(lines, " !   Error deploying the application", " !   → Timeout: your application has not bound $PORT within 60s")
	case "hook-error":
		return append(lines, " !   Error deploying the application", " !   → The postdeploy hook failed, the previous version keeps running")
	}
	return append(lines, " !   Deployment ended with status "+final)
}
