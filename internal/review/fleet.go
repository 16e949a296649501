package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/clock"
	"github.com/scalingo-deploy/scalingo-deploy/internal/platform"
	"github.com/scalingo-deploy/scalingo-deploy/internal/scalingo"
)

// The fleet modes work on a parent's review apps as a whole, from a scheduled pipeline:
// the sweep deletes the stale ones, sleep scales them to zero and wake restores them.
// Each lists the parent's child apps and touches only those named as review apps of
// that parent (<parent>-pr<N>): never the parent, never another child.

// Verdict is what a fleet mode did with one child app, and why.
type Verdict struct {
	App    string `json:"app"`
	Parent string `json:"parent"`
	Region string `json:"region"`
	// Status is one of the statuses below, Kept or Absent.
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// The statuses of a Verdict, with Kept (a child left as it is) and Absent (gone
// already), which a destroy's status output shares (review.go).
const (
	Deleted     = "deleted"
	WouldDelete = "would-delete"
	Asleep      = "asleep"
	WouldSleep  = "would-sleep"
	Awake       = "awake"
	WouldWake   = "would-wake"
	Failed      = "failed"
)

// Fleet is one parent's review apps as a fleet mode sees them.
type Fleet struct {
	Parent, Region string
	Client         *scalingo.Client
	Reporter       *platform.Reporter
	// Targets are the apps of the run: none of them is ever touched.
	Targets []string
	// DryRun reads and says what would change; it changes nothing.
	DryRun bool
	Clock  clock.Clock
	// PollInterval is the time between two checks of a scale operation: 3 s.
	PollInterval time.Duration
	// Timeout bounds each scale operation's wait.
	Timeout time.Duration
	// Closed, when set, tells whether pull or merge request number is closed or merged
	// (the forge's answer, with a forge token): the sweep then deletes a review app of a
	// closed request whatever its age. nil: the sweep goes by age only.
	Closed func(ctx context.Context, number int) (bool, error)
}

// IsReviewName tells whether name is what this tool names a review app of parent:
// <parent>-pr<N>, N a request number.
func IsReviewName(parent, name string) bool {
	n, ok := strings.CutPrefix(name, parent+"-pr")
	return ok && prNumber.MatchString(n)
}

var prNumber = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)

// members lists the parent's children: the review apps, and a verdict (left alone, and
// why) for every other child.
func (f *Fleet) members(ctx context.Context) ([]scalingo.ChildApp, []Verdict, error) {
	kids, err := f.Client.ChildApps(ctx, f.Parent)
	if err != nil {
		return nil, nil, fmt.Errorf("list the child apps of %s: %w", f.Parent, err)
	}
	var review []scalingo.ChildApp
	var other []Verdict
	leave := func(app, why string) {
		other = append(other, Verdict{App: app, Parent: f.Parent, Region: f.Region, Status: Kept, Reason: why})
	}
	for _, k := range kids {
		switch {
		case k.Name == f.Parent || slices.Contains(f.Targets, k.Name):
			leave(k.Name, "an app of this run: never touched")
		case !IsReviewName(f.Parent, k.Name):
			leave(k.Name, fmt.Sprintf("not named as a review app of %s (%s-pr<N>): left alone", f.Parent, f.Parent))
		default:
			parent := k.ParentAppName
			if parent == "" {
				// The listing should say; when it does not, the app itself is asked.
				app, err := f.Client.App(ctx, k.Name)
				if err != nil {
					other = append(other, Verdict{App: k.Name, Parent: f.Parent, Region: f.Region, Status: Failed, Reason: "could not tell whose child it is: " + err.Error()})
					continue
				}
				parent = app.ParentAppName
			}
			if parent != f.Parent {
				leave(k.Name, "not a child of "+f.Parent+": left alone")
				continue
			}
			review = append(review, k)
		}
	}
	return review, other, nil
}

// verdict records what was done with app. A change (or a failure) is printed as it
// happens; the run's summary lists every verdict at the end.
func (f *Fleet) verdict(app, status, reason string) Verdict {
	switch status {
	case Deleted, Asleep, Awake, Failed:
		f.Reporter.Printf("%s: %s (%s).", app, status, reason)
	}
	return Verdict{App: app, Parent: f.Parent, Region: f.Region, Status: status, Reason: reason}
}

// Sweep deletes the parent's review apps whose last deployment, or creation if never
// deployed, is older than maxAge (with DryRun, says which it would delete). The error
// joins the failures; the verdicts name every child, kept or not.
func (f *Fleet) Sweep(ctx context.Context, maxAge time.Duration) ([]Verdict, error) {
	review, out, err := f.members(ctx)
	if err != nil {
		return nil, err
	}
	now := f.Clock.Now()
	var errs []error
	for _, k := range review {
		when, what, err := f.lastActivity(ctx, k)
		if err != nil {
			out = append(out, f.verdict(k.Name, Failed, err.Error()))
			errs = append(errs, err)
			continue
		}
		age := now.Sub(when)
		reason := fmt.Sprintf("%s %s ago", what, Age(age))
		if age <= maxAge {
			reason += ", within " + Age(maxAge)
			if f.Closed == nil {
				out = append(out, f.verdict(k.Name, Kept, reason))
				continue
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(k.Name, f.Parent+"-pr"))
			closed, err := f.Closed(ctx, n)
			switch {
			case err != nil:
				out = append(out, f.verdict(k.Name, Kept, fmt.Sprintf("%s; whether request #%d is closed is unknown: %v", reason, n, err)))
				continue
			case !closed:
				out = append(out, f.verdict(k.Name, Kept, fmt.Sprintf("%s; request #%d is open", reason, n)))
				continue
			}
			reason = fmt.Sprintf("request #%d is closed or merged (%s)", n, reason)
		} else {
			reason += ", older than " + Age(maxAge)
		}
		v, err := f.delete(ctx, k.Name, reason)
		out = append(out, v)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// delete deletes a review app the sweep selected (with DryRun, says it would).
func (f *Fleet) delete(ctx context.Context, app, reason string) (Verdict, error) {
	if f.DryRun {
		return f.verdict(app, WouldDelete, reason), nil
	}
	err := f.Client.DeleteApp(ctx, app)
	var apiErr *scalingo.APIError
	switch {
	case err == nil:
		return f.verdict(app, Deleted, reason), nil
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		return f.verdict(app, Absent, "gone already"), nil
	}
	err = fmt.Errorf("delete review app %s: %w", app, err)
	return f.verdict(app, Failed, err.Error()), err
}

// lastActivity is when the app was last deployed, else when it was created.
func (f *Fleet) lastActivity(ctx context.Context, k scalingo.ChildApp) (time.Time, string, error) {
	if k.LastDeployedAt != nil && !k.LastDeployedAt.IsZero() {
		return *k.LastDeployedAt, "last deployed", nil
	}
	// Never deployed, the listing says; its deployments say so too before the
	// creation date is trusted.
	deps, err := f.Client.Deployments(ctx, k.Name, 1)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("list the deployments of %s: %w", k.Name, err)
	}
	if len(deps) > 0 && !deps[0].CreatedAt.IsZero() {
		return deps[0].CreatedAt, "last deployed", nil
	}
	if k.CreatedAt.IsZero() {
		return time.Time{}, "", fmt.Errorf("review app %s: neither its last deployment nor its creation date is known", k.Name)
	}
	return k.CreatedAt, "created, never deployed,", nil
}

// Age prints a duration as days and hours (8d, 6d 4h, 5h, 30m).
func Age(d time.Duration) string {
	days, rest := int(d/(24*time.Hour)), d%(24*time.Hour)
	hours := int(rest / time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return rest.Round(time.Minute).String()
}

// SleepVariable is the review app's variable that holds the formation sleep stopped.
// It holds process types, amounts and sizes: no secret. The app can read it, as it can
// read its own formation; whoever can change it can scale the app by hand anyway, and
// wake reads it strictly (known sizes, 1 to 10 containers) and applies it to this
// review app only.
const SleepVariable = "SCALINGO_DEPLOY_SLEEP_FORMATION"

// Sleep scales the parent's review apps to zero containers, remembering in each one's
// SleepVariable what ran. One already at zero is left as it is (and its memory, if
// any, kept).
func (f *Fleet) Sleep(ctx context.Context) ([]Verdict, error) {
	review, out, err := f.members(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, k := range review {
		v, err := f.sleep(ctx, k.Name)
		if err != nil {
			v = f.verdict(k.Name, Failed, err.Error())
			errs = append(errs, err)
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

func (f *Fleet) sleep(ctx context.Context, app string) (Verdict, error) {
	cur, err := f.Client.Containers(ctx, app)
	if err != nil {
		return Verdict{}, fmt.Errorf("read the formation of %s: %w", app, err)
	}
	var running, stop []scalingo.Container
	for _, c := range cur {
		if c.Amount > 0 {
			running = append(running, c)
			stop = append(stop, scalingo.Container{Name: c.Name, Amount: 0})
		}
	}
	if len(running) == 0 {
		return f.verdict(app, Kept, "no container runs: nothing to stop"), nil
	}
	memory := EncodeFormation(running)
	// Wake reads the memory strictly (DecodeFormation): one it would refuse (more than
	// 10 containers of a type, a size it does not know…) would leave the app asleep for
	// good, so the app is left running instead, and why is said.
	if _, err := DecodeFormation(memory); err != nil {
		why := fmt.Sprintf("its formation (%s) cannot be remembered for review-app-wake (%v): left running", memory, err)
		f.Reporter.Warning("review app %s: %s", app, why)
		return f.verdict(app, Kept, why), nil
	}
	if f.DryRun {
		return f.verdict(app, WouldSleep, "would stop "+memory), nil
	}
	// Remembered first: a scale that then fails leaves the app running, and a wake
	// restores what runs already.
	if err := f.Client.SetVariables(ctx, app, []scalingo.Variable{{Name: SleepVariable, Value: memory}}); err != nil {
		return Verdict{}, fmt.Errorf("remember the formation of %s: %w", app, err)
	}
	if err := f.scale(ctx, app, stop); err != nil {
		return Verdict{}, err
	}
	return f.verdict(app, Asleep, "stopped "+memory+", remembered in "+SleepVariable), nil
}

// Wake restores, on each of the parent's review apps that sleep stopped, the formation
// it remembered, then forgets it. An app sleep did not stop is left as it is.
func (f *Fleet) Wake(ctx context.Context) ([]Verdict, error) {
	review, out, err := f.members(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, k := range review {
		v, err := f.wake(ctx, k.Name)
		if err != nil {
			v = f.verdict(k.Name, Failed, err.Error())
			errs = append(errs, err)
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

func (f *Fleet) wake(ctx context.Context, app string) (Verdict, error) {
	vars, err := f.Client.Variables(ctx, app)
	if err != nil {
		return Verdict{}, fmt.Errorf("read the variables of %s: %w", app, err)
	}
	i := slices.IndexFunc(vars, func(v scalingo.Variable) bool { return v.Name == SleepVariable })
	if i < 0 {
		return f.verdict(app, Kept, "review-app-sleep did not stop it: left as it is"), nil
	}
	formation, err := DecodeFormation(vars[i].Value)
	if err != nil {
		return Verdict{}, fmt.Errorf("review app %s: %s is not what review-app-sleep writes (%w): left asleep; scale it by hand and delete the variable", app, SleepVariable, err)
	}
	memory := EncodeFormation(formation)
	if f.DryRun {
		return f.verdict(app, WouldWake, "would restore "+memory), nil
	}
	if err := f.scale(ctx, app, formation); err != nil {
		return Verdict{}, err
	}
	if err := f.Client.DeleteVariable(ctx, app, vars[i].ID); err != nil && !notFound(err) {
		return Verdict{}, fmt.Errorf("review app %s is awake (%s) but %s could not be deleted: %w", app, memory, SleepVariable, err)
	}
	return f.verdict(app, Awake, "restored "+memory), nil
}

// scale applies containers and follows the operation to its end. "No change" is done.
func (f *Fleet) scale(ctx context.Context, app string, containers []scalingo.Container) error {
	opURL, err := f.Client.Scale(ctx, app, containers)
	var apiErr *scalingo.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity && strings.Contains(apiErr.Message, "no change in containers formation") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scale %s: %w", app, err)
	}
	return follow(ctx, f.Client, app, opURL, f.Clock, f.PollInterval, f.Timeout)
}

// follow polls a scale operation until it is done, for at most timeout.
func follow(ctx context.Context, client *scalingo.Client, app, opURL string, clk clock.Clock, poll, timeout time.Duration) error {
	deadline := clk.Now().Add(timeout)
	for opURL != "" {
		op, err := client.Operation(ctx, opURL)
		if err != nil {
			return fmt.Errorf("follow the scale of %s: %w", app, err)
		}
		switch op.Status {
		case "done":
			return nil
		case "error":
			return fmt.Errorf("scale %s: the operation failed: %s", app, op.Error)
		}
		if !clk.Now().Before(deadline) {
			return fmt.Errorf("scale %s: still %s after %s", app, op.Status, timeout)
		}
		if err := sleep(ctx, clk, poll); err != nil {
			return err
		}
	}
	return nil
}

// EncodeFormation writes a formation as review-app-sleep remembers it:
// web:2:M,worker:1:S.
func EncodeFormation(cs []scalingo.Container) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s:%d:%s", c.Name, c.Amount, c.Size)
	}
	return strings.Join(parts, ",")
}

var (
	processType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	sizes       = []string{"XS", "S", "M", "L", "XL", "2XL", "3XL", "4XL"}
)

// DecodeFormation reads what EncodeFormation wrote, strictly: the variable is the
// app's own, and a value nobody wrote through sleep is refused rather than applied. An
// empty size (the API gave none) leaves the size as it is.
func DecodeFormation(s string) ([]scalingo.Container, error) {
	items := strings.Split(s, ",")
	if len(items) > 20 {
		return nil, errors.New("more than 20 process types")
	}
	var out []scalingo.Container
	for i, item := range items {
		parts := strings.Split(item, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("item #%d is not type:amount:size", i+1)
		}
		n, err := strconv.Atoi(parts[1])
		switch {
		case !processType.MatchString(parts[0]):
			return nil, fmt.Errorf("item #%d: not a process type", i+1)
		case slices.ContainsFunc(out, func(c scalingo.Container) bool { return c.Name == parts[0] }):
			return nil, fmt.Errorf("item #%d: %s given twice", i+1, parts[0])
		case err != nil || n < 1 || n > 10 || parts[1] != strconv.Itoa(n):
			return nil, fmt.Errorf("item #%d: the amount is not 1 to 10", i+1)
		case parts[2] != "" && !slices.Contains(sizes, parts[2]):
			return nil, fmt.Errorf("item #%d: not a container size (%s)", i+1, strings.Join(sizes, ", "))
		}
		out = append(out, scalingo.Container{Name: parts[0], Amount: n, Size: parts[2]})
	}
	return out, nil
}
