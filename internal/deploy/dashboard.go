package deploy

import "net/url"

// dashboard is Scalingo's web dashboard, the same host for every region: an app's page is
// /apps/<region>/<app>, as the official CLI opens it (`scalingo dashboard`, Scalingo/cli
// apps/dashboard.go). The dashboard URLs /v1/regions lists (my.<region>.scalingo.com)
// are the former dashboards, which send there.
const dashboard = "https://dashboard.scalingo.com/apps/"

// DashboardURL is the app's page on Scalingo's dashboard.
func DashboardURL(region, app string) string {
	if region == "" || app == "" {
		return ""
	}
	return dashboard + url.PathEscape(region) + "/" + url.PathEscape(app)
}

// DeploymentsURL is the page of the app's deployments on Scalingo's dashboard, where each
// one's log is shown.
func DeploymentsURL(region, app string) string {
	if u := DashboardURL(region, app); u != "" {
		return u + "/deploy/list"
	}
	return ""
}

// DashboardURL is the target's app page on Scalingo's dashboard, once the app was found.
func (r *Result) DashboardURL() string {
	if r.AppURL == "" && r.DeploymentID == "" {
		return ""
	}
	return DashboardURL(r.Region, r.App)
}
