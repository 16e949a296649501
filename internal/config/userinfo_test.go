package config

import "testing"

// TestLoad_RefusedURLHidesItsPassword: a URL refused for holding credentials is echoed
// with its userinfo as user:***@, never with the password the user pasted.
func TestLoad_RefusedURLHidesItsPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"health-check", []string{"SCALINGO_HEALTH_CHECK", "http://admin:s3cretpw@app.example.com/healthz"}, `health-check: "http://admin:***@app.example.com/healthz"`},
		{"health-check, a token as user", []string{"SCALINGO_HEALTH_CHECK", "https://s3cretpw@app.example.com/"}, `health-check: "https://***@app.example.com/"`},
		{"api-url", []string{"SCALINGO_API_URL", "https://admin:s3cretpw@api.example.com"}, `api-url: "https://admin:***@api.example.com"`},
		{"auth-url", []string{"SCALINGO_AUTH_URL", "https://admin:s3cretpw@auth.example.com"}, `auth-url: "https://admin:***@auth.example.com"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loadErr(t, nil, append(append([]string{}, tt.env...), base...), []string{tt.want}, []string{"s3cretpw"})
		})
	}
}
