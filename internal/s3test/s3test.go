// Package s3test runs a real S3-compatible object store (versitygw) on
// 127.0.0.1 for tests, so that uploads are checked by the same rules as
// Scalingo's storage: a signed URL, a Content-Length (chunked bodies get 411),
// expiry (403 "Request has expired") and the stored Content-Type.
//
// One versitygw process is shared by all the tests of a test binary that run
// at the same time: the first Start launches it, every Start gets its own
// bucket, and the process stops when the last user's test ends (it starts in
// about 50 ms, so sequential tests simply restart it). There is no TestMain to
// write and no process is left behind.
//
// Install the binary with:
//
//	GOBIN=$HOME/go/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials of the root user of the test gateway; they only ever protect a
// temporary directory on 127.0.0.1.
const (
	AccessKey = "s3test-access"
	SecretKey = "s3test-secret-key"
	Region    = "us-east-1"
)

// InstallHint says how to get the binary the tests need.
const InstallHint = "GOBIN=$HOME/go/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Server is one test's view of the shared gateway: its own bucket.
type Server struct {
	// Endpoint is the gateway's base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	// Bucket is this test's bucket.
	Bucket string
	// Client is a minio-go client for the gateway, for extra inspection.
	Client *minio.Client

	host string // host:port, as signed into URLs
}

// shared is the running gateway and the number of tests using it.
var shared struct {
	mu    sync.Mutex
	users int
	gw    *gateway
}

type gateway struct {
	cmd      *exec.Cmd
	host     string
	dir      string
	exited   chan struct{}
	stderr   *lockedBuffer
	bucketNo int
}

// Start returns a bucket on a running versitygw, starting the gateway if no
// other running test uses one. The bucket and, for the last user, the process
// are removed when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3test: versitygw is required in CI but was not found (%v); install it with: %s", err, InstallHint)
		}
		t.Skipf("\n"+
			"********************************************************************\n"+
			"* SKIPPED: versitygw (a real S3 server for the upload tests) is not *\n"+
			"* installed. Install it with:                                      *\n"+
			"*   %s\n"+
			"* (or set VERSITYGW to its path). In CI this is a failure.         *\n"+
			"********************************************************************", InstallHint)
	}

	shared.mu.Lock()
	if shared.gw == nil || !shared.gw.alive() {
		gw, err := startGateway(bin)
		if err != nil {
			shared.mu.Unlock()
			t.Fatalf("s3test: start versitygw: %v", err)
		}
		shared.gw = gw
	}
	gw := shared.gw
	shared.users++
	gw.bucketNo++
	bucket := fmt.Sprintf("t%d-%s", gw.bucketNo, randomHex(4))
	shared.mu.Unlock()

	t.Cleanup(func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		shared.users--
		if shared.users == 0 && shared.gw == gw {
			gw.stop()
			shared.gw = nil
		}
	})

	client, err := minio.New(gw.host, &minio.Options{
		Creds:  credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region: Region,
	})
	if err != nil {
		t.Fatalf("s3test: minio client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v (gateway stderr: %s)", bucket, err, gw.stderr.String())
	}
	return &Server{
		Endpoint: "http://" + gw.host,
		Bucket:   bucket,
		Client:   client,
		host:     gw.host,
	}
}

// Presign returns a PUT URL and a GET URL for key, both valid for ttl, signed
// by minio-go as a real S3 client would sign them. It makes *Server a
// fakescalingo.Storage.
func (s *Server) Presign(ctx context.Context, key string, ttl time.Duration) (putURL, getURL string, err error) {
	put, err := s.Client.PresignedPutObject(ctx, s.Bucket, key, ttl)
	if err != nil {
		return "", "", fmt.Errorf("presign put %s: %w", key, err)
	}
	get, err := s.Client.PresignedGetObject(ctx, s.Bucket, key, ttl, nil)
	if err != nil {
		return "", "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return put.String(), get.String(), nil
}

// PresignAt signs a URL for method on key as if it had been signed at
// signedAt, valid for ttl from then. minio-go always signs with time.Now, so
// this signs by hand (SigV4 query signing); a URL signed in the past is how a
// test gets an expired URL without waiting.
func (s *Server) PresignAt(method, key string, signedAt time.Time, ttl time.Duration) string {
	u := &url.URL{Scheme: "http", Host: s.host, Path: "/" + s.Bucket + "/" + key}
	return presignV4(method, u, AccessKey, SecretKey, Region, signedAt, ttl)
}

// Object returns what is stored under key and its Content-Type.
func (s *Server) Object(key string) (data []byte, contentType string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj, err := s.Client.GetObject(ctx, s.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("get object %s: %w", key, err)
	}
	defer obj.Close()
	data, err = io.ReadAll(obj)
	if err != nil {
		return nil, "", fmt.Errorf("read object %s: %w", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("stat object %s: %w", key, err)
	}
	return data, info.ContentType, nil
}

// Keys lists the objects in the bucket.
func (s *Server) Keys() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	for o := range s.Client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list objects: %w", o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

func findBinary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VERSITYGW=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("versitygw not in PATH, $HOME/go/bin or $VERSITYGW")
}

func startGateway(bin string) (*gateway, error) {
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var lastErr error
	// A free port can be taken by someone else between our probe and the
	// gateway's bind; try a few.
	for range 5 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		gw := &gateway{host: host, dir: dir, exited: make(chan struct{}), stderr: &lockedBuffer{}}
		gw.cmd = exec.Command(bin, "--port", host, "--access", AccessKey, "--secret", SecretKey,
			"--region", Region, "--quiet", "posix", dir)
		gw.cmd.Stdout = io.Discard
		gw.cmd.Stderr = gw.stderr
		setDeathSignal(gw.cmd)
		if err := gw.cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("run %s: %w", bin, err)
		}
		go func() { gw.cmd.Wait(); close(gw.exited) }()
		if err := gw.waitReady(); err != nil {
			gw.kill()
			lastErr = err
			continue
		}
		return gw, nil
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// waitReady polls the port with short dials until the gateway answers (it
// takes ~50 ms), the process exits, or 20 s pass.
func (g *gateway) waitReady() error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.exited:
			return fmt.Errorf("versitygw exited: %s", g.stderr.String())
		default:
		}
		c, err := net.DialTimeout("tcp", g.host, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-g.exited:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("versitygw did not answer on %s within 20s: %s", g.host, g.stderr.String())
}

func (g *gateway) alive() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

func (g *gateway) kill() {
	g.cmd.Process.Kill()
	<-g.exited
}

func (g *gateway) stop() {
	g.kill()
	os.RemoveAll(g.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 { // keep the start, enough to explain a failure
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
