package config

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-7d", 0, false},
		{"7 d", 0, false},
		{"7days", 0, false},
		{"1.5d", 0, false},
		{"99999d", 0, false},
		{"0s", 0, false},
		{"-1h", 0, false},
		{"week", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAge(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseAge(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestLoad_Fleet(t *testing.T) {
	t.Parallel()
	shell := []string{"SCALINGO_API_TOKEN", "tk-us-plain", "SCALINGO_APP", "my-app, my-api"}
	tests := []struct {
		name string
		env  []string
		want Fleet
	}{
		{"sweep", []string{"SCALINGO_REVIEW_APP_SWEEP", "true", "SCALINGO_REVIEW_APP_MAX_AGE", "7d"}, Fleet{Mode: Sweep, MaxAge: 7 * 24 * time.Hour}},
		{"sleep", []string{"SCALINGO_REVIEW_APP_SLEEP", "true"}, Fleet{Mode: Sleep}},
		{"wake", []string{"SCALINGO_REVIEW_APP_WAKE", "1"}, Fleet{Mode: Wake}},
		{"false is off", []string{"SCALINGO_REVIEW_APP_SLEEP", "false", "SCALINGO_REVIEW_APP_WAKE", "true"}, Fleet{Mode: Wake}},
		{"a dry run needs the token too (checked below), and may sweep", []string{"SCALINGO_REVIEW_APP_SWEEP", "true", "SCALINGO_REVIEW_APP_MAX_AGE", "36h", "SCALINGO_DRY_RUN", "true"}, Fleet{Mode: Sweep, MaxAge: 36 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, env(append(append([]string{}, shell...), tt.env...)...))
			if err != nil {
				t.Fatal(err)
			}
			if c.Fleet != tt.want || len(c.Targets) != 2 {
				t.Errorf("Fleet = %+v, targets %v; want %+v", c.Fleet, c.Targets, tt.want)
			}
		})
	}
	refused := []struct {
		name string
		env  []string
		want []string
	}{
		{"a fleet dry run still needs the token", []string{"SCALINGO_APP", "my-app", "SCALINGO_REVIEW_APP_SLEEP", "true", "SCALINGO_DRY_RUN", "true"}, []string{"api-token: missing"}},
		{"and the parents", []string{"SCALINGO_API_TOKEN", "tk-us-plain", "SCALINGO_REVIEW_APP_SLEEP", "true", "SCALINGO_DRY_RUN", "true"}, []string{"review-app-sleep: needs app"}},
		{"two modes", append([]string{"SCALINGO_REVIEW_APP_SWEEP", "true", "SCALINGO_REVIEW_APP_MAX_AGE", "7d", "SCALINGO_REVIEW_APP_WAKE", "true"}, shell...), []string{"one mode a run"}},
		{"sweep without an age", append([]string{"SCALINGO_REVIEW_APP_SWEEP", "true"}, shell...), []string{"review-app-sweep: needs review-app-max-age"}},
		{"an age without sweep", append([]string{"SCALINGO_REVIEW_APP_SLEEP", "true", "SCALINGO_REVIEW_APP_MAX_AGE", "7d"}, shell...), []string{"review-app-max-age: needs review-app-sweep: true"}},
		{"not a review-app run", append([]string{"SCALINGO_REVIEW_APP_SWEEP", "true", "SCALINGO_REVIEW_APP_MAX_AGE", "7d", "SCALINGO_REVIEW_APP", "true", "SCALINGO_REVIEW_APP_NAME", "my-app-pr1"}, shell[:2]...),
			[]string{"review-app-sweep: is a mode of its own"}},
		{"fork-label without review-app", append([]string{"SCALINGO_FORK_LABEL", "safe-to-deploy"}, shell...), []string{"fork-label: needs review-app: true"}},
		{"fork-label on one line", append([]string{"SCALINGO_FORK_LABEL", "a\nb", "SCALINGO_REVIEW_APP", "true", "SCALINGO_REVIEW_APP_NAME", "my-app-pr1"}, shell[:2]...), []string{"fork-label: is not a label name"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, nil, tt.env, tt.want, nil)
		})
	}
}
