package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--app", "demo-app", "--token", "tk-us-demo"}, pw, io.Discard)
		pw.Close()
	}()
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		if strings.HasPrefix(line, "# then: ") {
			if want := "# then: go run . --app demo-app --path ."; line != want {
				t.Errorf("hint %q, want %q", line, want)
			}
			break
		}
	}
	if env["SCALINGO_API_TOKEN"] != "tk-us-demo" || !strings.HasPrefix(env["SCALINGO_API_URL"], "http://127.0.0.1:") || !strings.HasPrefix(env["SCALINGO_AUTH_URL"], "http://127.0.0.1:") {
		t.Fatalf("printed env %v", env)
	}
	// The printed values work: the token exchanges at the printed auth URL.
	req, _ := http.NewRequest("POST", env["SCALINGO_AUTH_URL"]+"/v1/tokens/exchange", nil)
	req.SetBasicAuth("", env["SCALINGO_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("exchange with the printed token: %d", resp.StatusCode)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRun_badFlag(t *testing.T) {
	t.Parallel()
	if err := run(context.Background(), []string{"--nope"}, io.Discard, io.Discard); err == nil {
		t.Error("run accepted an unknown flag")
	}
}

func TestRun_regions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"app in another region", []string{"--other-region", "osc-secnum-fr1", "--app", "prod-app@osc-secnum-fr1"}, false},
		{"region not served", []string{"--app", "prod-app@osc-secnum-fr1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, tc.args, pw, io.Discard)
				pw.Close()
			}()
			var regions []string
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				if r, ok := strings.CutPrefix(sc.Text(), "# region "); ok {
					regions = append(regions, r)
				}
				if strings.HasPrefix(sc.Text(), "# then: ") {
					break
				}
			}
			go io.Copy(io.Discard, pr)
			cancel()
			err := <-done
			if (err != nil) != tc.wantErr {
				t.Fatalf("run: %v", err)
			}
			if !tc.wantErr && (len(regions) != 2 || !strings.HasPrefix(regions[1], "osc-secnum-fr1: http://127.0.0.1:")) {
				t.Errorf("printed regions %q", regions)
			}
		})
	}
}
