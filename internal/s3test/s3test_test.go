package s3test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServer_Upload checks the S3 rules the product's uploader depends on,
// against the real gateway.
func TestServer_Upload(t *testing.T) {
	t.Parallel()
	s := Start(t)
	payload := []byte("\x1f\x8b fake gzip bytes")

	tests := []struct {
		name        string
		url         func(key string) string
		chunked     bool
		auth        bool
		wantStatus  int
		wantBody    string // substring of the S3 error
		wantStored  bool
		contentType string
	}{
		{
			name:        "signed PUT with Content-Length",
			url:         func(key string) string { u, _, _ := s.Presign(context.Background(), key, time.Minute); return u },
			wantStatus:  200,
			wantStored:  true,
			contentType: "application/x-gzip",
		},
		{
			name:       "chunked body",
			url:        func(key string) string { u, _, _ := s.Presign(context.Background(), key, time.Minute); return u },
			chunked:    true,
			wantStatus: 411,
			wantBody:   "MissingContentLength",
		},
		{
			name:        "hand-signed now",
			url:         func(key string) string { return s.PresignAt(http.MethodPut, key, time.Now(), time.Minute) },
			wantStatus:  200,
			wantStored:  true,
			contentType: "text/plain",
		},
		{
			name: "hand-signed an hour ago, expired",
			url: func(key string) string {
				return s.PresignAt(http.MethodPut, key, time.Now().Add(-time.Hour), 10*time.Minute)
			},
			wantStatus: 403,
			wantBody:   "Request has expired",
		},
		{
			name: "tampered signature",
			url: func(key string) string {
				u, _, _ := s.Presign(context.Background(), key, time.Minute)
				i := strings.Index(u, "X-Amz-Signature=") + len("X-Amz-Signature=")
				c := byte('0')
				if u[i] == '0' {
					c = '1'
				}
				return u[:i] + string(c) + u[i+1:]
			},
			wantStatus: 403,
			wantBody:   "SignatureDoesNotMatch",
		},
		{
			name: "host changed to localhost",
			url: func(key string) string {
				u, _, _ := s.Presign(context.Background(), key, time.Minute)
				return strings.Replace(u, "127.0.0.1", "localhost", 1)
			},
			wantStatus: 403,
			wantBody:   "SignatureDoesNotMatch",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := "sources/" + strings.ReplaceAll(tc.name, " ", "-") + string(rune('a'+i))
			var body io.Reader = bytes.NewReader(payload)
			if tc.chunked {
				// Unknown length: Go sends it chunked. The body is held back
				// until the answer came: the gateway answers 411 on the
				// headers and closes, and a body still being written would
				// turn that answer into a broken pipe.
				pr, pw := io.Pipe()
				t.Cleanup(func() { pw.Close() })
				body = pr
			}
			req, err := http.NewRequest(http.MethodPut, tc.url(key), body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			respBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got, want := resp.StatusCode, tc.wantStatus; got != want {
				t.Fatalf("status = %d, want %d; body: %s", got, want, respBody)
			}
			if !strings.Contains(string(respBody), tc.wantBody) {
				t.Errorf("body %q does not contain %q", respBody, tc.wantBody)
			}
			data, ct, err := s.Object(key)
			if !tc.wantStored {
				if err == nil {
					t.Errorf("object %s stored (%q), want nothing stored", key, data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, payload) {
				t.Errorf("stored %q, want %q", data, payload)
			}
			if ct != tc.contentType {
				t.Errorf("stored Content-Type %q, want %q", ct, tc.contentType)
			}
		})
	}
}

// TestServer_PresignGet checks that the GET URL serves what was PUT, with its
// Content-Type, as the Scalingo builder will fetch it.
func TestServer_PresignGet(t *testing.T) {
	t.Parallel()
	s := Start(t)
	put, get, err := s.Presign(context.Background(), "a/b.tar.gz", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put, strings.NewReader("hello"))
	req.Header.Set("Content-Type", "application/x-gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT status %d", resp.StatusCode)
	}
	resp, err = http.Get(get)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), "hello"; got != want {
		t.Errorf("GET body %q, want %q", got, want)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/x-gzip"; got != want {
		t.Errorf("GET Content-Type %q, want %q", got, want)
	}
	keys, err := s.Keys()
	if err != nil || len(keys) != 1 || keys[0] != "a/b.tar.gz" {
		t.Errorf("Keys() = %v, %v; want [a/b.tar.gz]", keys, err)
	}
}

// TestStart_separateBuckets checks that tests sharing the gateway do not see
// each other's objects.
func TestStart_separateBuckets(t *testing.T) {
	t.Parallel()
	a, b := Start(t), Start(t)
	if a.Bucket == b.Bucket {
		t.Fatalf("two Starts share bucket %s", a.Bucket)
	}
	if a.Endpoint != b.Endpoint {
		t.Errorf("concurrent Starts run two gateways: %s and %s", a.Endpoint, b.Endpoint)
	}
	put, _, _ := a.Presign(context.Background(), "k", time.Minute)
	req, _ := http.NewRequest(http.MethodPut, put, strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, _, err := b.Object("k"); err == nil {
		t.Errorf("object put in bucket %s is visible in bucket %s", a.Bucket, b.Bucket)
	}
}

// TestStart_stopsWhenLastUserEnds checks that no gateway outlives its users.
// Not parallel: parallel tests start after it, so it is the only user.
func TestStart_stopsWhenLastUserEnds(t *testing.T) {
	var gw *gateway
	t.Run("user", func(t *testing.T) {
		s := Start(t)
		shared.mu.Lock()
		gw = shared.gw
		shared.mu.Unlock()
		if gw == nil || !gw.alive() || s.Endpoint != "http://"+gw.host {
			t.Fatalf("no running gateway behind %s", s.Endpoint)
		}
	})
	if gw == nil {
		t.Skip("the user subtest did not get a gateway")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.gw != nil || shared.users != 0 {
		t.Errorf("after the last user: gateway %v, %d users", shared.gw, shared.users)
	}
	if gw.alive() {
		t.Errorf("versitygw (pid %d) still running after the last user ended", gw.cmd.Process.Pid)
	}
}
