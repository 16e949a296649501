// Package fakescalingo is an in-process fake of the Scalingo API for tests and
// for trying the deployer without an account. It keeps the real API's rules
// and strictness as described in docs/scalingo-api.md (shared docs), so that a
// client that passes against it is right against the real one.
//
// Start runs, on 127.0.0.1, one httptest server per real host:
//
//   - auth (AuthURL): POST /v1/tokens/exchange (basic auth, empty user, the API
//     token as password) returns {"token": JWT}; GET /v1/regions lists every
//     region with its "api" URL, Options.Region first and "default".
//   - api, one server per region (APIURL for Options.Region, RegionAPIURL(name)
//     for each of Options.OtherRegions): see "Regional API" below. Every call
//     needs "Authorization: Bearer <JWT>" with an unexpired JWT; one JWT is
//     valid in every region.
//   - stream (StreamURL): the WebSocket at an app's links.deployments_stream.
//   - storage (StorageURL): the host of every upload_url. It applies the
//     "storage" faults and forwards the request unchanged (path, signed query,
//     headers, body, chunked or not) to the Storage that signed it, so the
//     storage's own rules decide. The one exception: a chunked PUT is answered
//     411 MissingContentLength by the front itself, as S3 does, because
//     forwarding it races with the storage closing the connection. With
//     Options.DirectUpload, upload_url is the Storage's own URL and storage
//     faults do not apply.
//   - blob: the built-in S3-like storage, when Options.Storage is nil. Same rules
//     as S3: signed URL (the host is signed), 400 if an Authorization header is
//     also sent, 411 MissingContentLength on a chunked PUT, 403 "Request has
//     expired" past the expiry (judged with Options.Now), 403
//     SignatureDoesNotMatch on any change, stores the Content-Type (S3's default
//     binary/octet-stream when none is sent).
//   - app servers: an app whose Scenario.Serve is set answers on its own
//     127.0.0.1 server, whose URL is the app's "url" and "base_url" (see
//     AppServer: healthy after N requests, never healthy, redirect).
//
// # Regional API
//
// Each region's server answers, for the apps of that region only (an app of
// another region is 404 {"resource":"app","error":"not found"}, as a wrong
// region is on Scalingo; AddApp puts an app in Scenario.Region):
//
//	GET    /v1/apps/{app}                          {"app":{…}}, parent_app_name on a child;
//	                                               created_at, last_deployed_at (null if never)
//	POST   /v1/apps                                {"app":{"name","parent_id"?}} → 201 {"app":{…}}
//	DELETE /v1/apps/{app}?current_name={app}       204; 422 without the right current_name;
//	                                               403 {"error"} unless the owner's JWT
//	POST   /v1/apps/{parent}/child_apps            {"app":{"name"}} → 201 {"app":{…,"parent_app_name"}}
//	GET    /v1/apps/{parent}/child_apps            {"child_apps":[…],"meta":{"pagination":…}}
//	GET    /v1/apps/{app}/variables                {"variables":[{"id","name","value"}]}
//	PUT    /v1/apps/{app}/variables                {"variables":[{"name","value"}]} → 200, the ones sent
//	                                               with ids; creates or updates, never deletes
//	POST   /v1/apps/{app}/variables                {"variable":{…}} → 201; DELETE …/variables/{id} → 204
//	GET    /v1/addon_providers/{provider}/plans    {"plans":[…]} (postgresql, redis, mongodb, mysql;
//	                                               also as scalingo-<provider>)
//	POST   /v1/apps/{app}/addons                   {"addon":{"addon_provider_id","plan_id"}} → 201
//	                                               {"addon","message","variables"}; plan_id must be
//	                                               an id (a name is 404 resource "plan"); sets the
//	                                               provider's SCALINGO_*_URL variable
//	GET    /v1/apps/{app}/addons[/{id}]            "provisioning" for Scenario.AddonPolls GETs, then "running"
//	DELETE /v1/apps/{app}/addons/{id}              204; the addon's variable goes with it (after
//	                                               Scenario.AddonRemovalPolls listings of the addons)
//	POST   /v1/apps/{app}/scale                    {"containers":[{"name","amount","size"}]}: 200 and
//	                                               applied at once if never deployed, else 202 with
//	                                               Location: …/operations/{id}
//	GET    /v1/apps/{app}/containers               {"containers":[{"name","amount","size","command"}]}:
//	                                               the Procfile's types (amount 0 if never scaled)
//	GET    /v1/apps/{app}/operations/{id}          {"operation":{…}}: "running" for Scenario.ScalePolls
//	                                               GETs, then "done" (formation applied) or "error"
//	                                               (Scenario.ScaleError)
//	POST   /v1/sources, /v1/apps/{app}/deployments, GET …/deployments[/{id}[/output]]
//
// Child apps: names follow Scalingo's rule (6 to Options.ChildNameMax, 48 by
// default, lowercase letters, digits, single hyphens; 422
// {"errors":{"name":[…]}} otherwise, also when the name is taken anywhere);
// a parent whose Scenario.FreeTrialExceeded is set answers 402
// {"name":"free-trial-exceeded","error","url"}. A child lives in its
// parent's region, is "new" until deployed, and takes the scenario given by
// PlanApp(name, sc), if any. AddApp seeds what a test starts from: a child
// (Scenario.Parent), variables (Scenario.Variables), a formation
// (Scenario.Formation) and a successful deployment made at Now
// (Scenario.Deployed), so that a test ages apps by moving the clock, or
// Scenario.Age before Now, so that the fake command can. Options.CollaboratorToken is a second API token
// whose user may do all of this but delete an app.
//
// Scale: types are those of the last deployed archive's Procfile ("web"
// without one; 404 {"resource":"container_type"} otherwise); amount 0–10;
// sizes XS…4XL; no change is 422 "no change in containers formation"; a
// scale while an operation runs is 422.
//
// Deployments record postdeploy_hook (a string or null; 422 otherwise) and
// the app's variables when created (Deployment.PostdeployHook, .Env). The
// request log (Requests, with Region) keeps arrival order across every
// server, so a test can check that the variables PUT came before the
// deployment POST. App(name) shows an app's region, parent, variables,
// addons and formation; Deleted() the apps a client deleted.
//
// Without Scenario.Duration, a deployment moves only when a client GETs it; no clock is involved. Its
// states are, in order:
//
//	queued × (QueuedPolls+1)   only when QueuedPolls > 0
//	building
//	pushing, starting          not for build-error and aborted, which end a build
//	final                      Scenario.FinalStatus, "success" by default
//
// The creation answer shows state 0; the Nth GET of /v1/apps/{app}/deployments/{id}
// moves to state N (capped at the last one) and answers it. So with
// QueuedPolls = 0 a deployment is "building" at creation and final on the 3rd
// GET (2nd for build-error/aborted); with QueuedPolls = q it is final on the
// (q+4)th. NeverFinish stops at "building". Listing deployments does not move them.
// With Scenario.BuildTime, a deployment moves with Options.Now instead: its states
// are spread evenly over BuildTime, caught up on every API request and on Tick.
//
// The scenario's log lines are split evenly (integer division) over the
// non-queued states; a state's lines are appended when it is entered, before
// its status. links.output therefore grows over polls, and the stream sends
// one "log" event per line, then a "status" event when the status changes.
//
// Entering "building" is when the fake acts as Scalingo's builder: it GETs
// source_url (127.0.0.1 only), requires Content-Type application/x-gzip,
// gunzips and untars it, requires exactly one top-level folder (no "./"), and
// at most Options.MaxArchiveSize uncompressed bytes (314,572,800 by default).
// Any failure replaces the log with "Fail to fetch source code: ..." and the
// deployment ends, on the next GET, as build-error. What the archive held is
// in Deployment.Archive.
//
// # Strictness
//
// Where the docs leave room, the fake takes the strict reading so that a
// client passing here does not lean on leniency the real API may not have:
//
//   - a non-empty POST body must be Content-Type application/json and valid
//     JSON (400 {"error":"There was a problem in the JSON you submitted: …"});
//   - POST …/deployments needs {"deployment":{…}} (422 {"errors":{"deployment":[…]}}),
//     a non-empty http(s) "source_url" (422 {"errors":{"source_url":[…]}}; the
//     2017 "download_url" field does not count), and a "git_ref" that is null,
//     absent or a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; 422 otherwise);
//   - the builder accepts only Content-Type application/x-gzip and one named
//     top-level folder;
//   - the regional API takes only "Authorization: Bearer <JWT>", never the raw
//     token; 401 bodies are {"error":…};
//   - errors: 404 {"resource":"app"|"deployment","error":"not found"} (or
//     {"error":"not found"} for unknown routes), 429 plain text "Retry later";
//     every auth and API answer has an X-Request-Id.
//   - with Options.RateLimit (60 for the real rule), more than that many API
//     calls, over all regions, in any minute of Options.Now get 429 "Retry
//     later" in plain text with X-Request-Id and no Retry-After (none is
//     documented; Options.RateLimitRetryAfter adds one); RateLimited()
//     counts them. Inject one clock into the fake and the client to run many
//     requests without sleeping. Options.RateLimitLag counts each call a varying
//     little later than Now, as a server counting by arrival does.
//
// # Faults
//
// Inject adds a Fault; each request (on any of the fake's servers) takes the
// first unused fault whose Method (empty: any) and Path prefix match, Path
// "storage" meaning the upload host. A fault applies to Times requests
// (0 means 1, negative means all) after letting After matching requests
// through. Requests() shows which fault hit which request. Vanish takes the
// whole API away (auth, API and stream hosts close every connection unanswered).
//
// Fault.OtherPort with Redirect answers an auth, API or stream request with a
// redirect to another port of 127.0.0.1 (plain HTTP); what reaches that port
// is logged as Server "elsewhere"; it also accepts a WebSocket and counts the
// stream auth frames it reads (StreamTokensElsewhere). Options.TLS serves auth,
// API and stream over TLS (TLSClientConfig trusts it); with PlainStream the
// stream stays ws://.
//
// # Stream
//
// The first frame must be {"type":"auth","data":{"token":"<JWT>"}}; anything
// else closes with 1008. Then the fake sends a ping, replays the log lines of
// the app's existing deployments (one "log" event per line, content ending in
// "\n"), and sends live "new" (both documented shapes unless
// Scenario.NewEventShape picks one: "doc" {"deployment":"<id>"} then "cli"
// {"deployment":{...}}), "log" and "status" events, and a ping every 30 s.
//
// A test that moves a fake clock only while nothing is in transit learns what the
// stream still has to say from StreamBusy (events queued and not yet written,
// connections being opened) and Options.StreamConn (a wrapper of each stream
// connection, to count the bytes written and not yet read at the other end).
package fakescalingo
