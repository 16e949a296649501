package deploy

// The observer seam: what the flow learns of each target, as it learns it, for whoever
// needs it besides the log (the run's report, a forge's deployment statuses and pull
// request comment, the build-failure annotator). Observers only watch: they cannot change
// the flow nor its verdict.

// EventKind says what an Event tells.
type EventKind int

const (
	// EventCreated: the target's deployment exists (DeploymentID, and its first Status).
	EventCreated EventKind = iota + 1
	// EventStatus: the deployment's status changed (Status), terminal ones included.
	EventStatus
	// EventLog: one line of the deployment's build log (Line), each line once, in order.
	EventLog
	// EventDone: the target is finished, whatever its outcome (Result, final). Sent for
	// every target that went past the look-up; when a look-up fails, nothing is deployed
	// anywhere and no target sends it.
	EventDone
)

// Event is one thing learned of one target.
type Event struct {
	Kind        EventKind
	App, Region string
	// DeploymentID is empty until the deployment exists (and in an EventDone of a target
	// that failed before creating it).
	DeploymentID string
	Status       Status
	// Line is the build log line of an EventLog, as the API gave it (untrusted: escape it
	// before printing it anywhere).
	Line string
	// Result is the target's result, in an EventDone only. It is final: read it, do not
	// change it.
	Result *Result
}

// Observer receives a run's events. Event is called on the target's own goroutine, so the
// events of one target arrive in order, and those of several targets may arrive at once:
// an observer that keeps state guards it. It should return quickly (it holds up the
// target's wait) and not fail: what it does with an event is its own business.
type Observer interface {
	Event(Event)
}

// ObserverFunc is a function as an Observer.
type ObserverFunc func(Event)

// Event calls f(e).
func (f ObserverFunc) Event(e Event) { f(e) }

// emit sends e, filled with the target's names and deployment, to every observer.
func (d *deployer) emit(e Event) {
	if len(d.observers) == 0 {
		return
	}
	e.App, e.Region = d.App, d.Region
	if e.DeploymentID == "" {
		e.DeploymentID = d.deploymentID
	}
	for _, o := range d.observers {
		o.Event(e)
	}
}
