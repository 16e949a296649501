package imagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The names the Dockerfile's FROM lines default to. When the machine has no such image (it
// cannot pull: see test-environment.md), a stand-in is made from busybox-static, the local Go
// toolchain and the local CA bundle, and tagged under the same name, so that a plain
// `podman build .` and act's build of the action both work.
const (
	goImage   = "docker.io/library/golang:1.26-alpine"
	baseImage = "docker.io/library/alpine:3.22"
	// standInLabel marks the images this package made, with a key of what went into them.
	standInLabel = "io.scalingo-deploy.imagetest.standin"
)

// containersConf holds the settings podman needs on the CI machines: crun refuses their hybrid
// cgroup setup, and the default ulimits fail with EPERM.
const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`

var (
	setupDir string // removed at the end of TestMain

	imageOnce sync.Once
	imageName string
	imageErr  error

	socketOnce sync.Once
	socketPath string
	socketErr  error
	socketCmd  *exec.Cmd
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "imagetest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagetest:", err)
		return 1
	}
	setupDir = dir
	defer os.RemoveAll(dir)
	if os.Getenv("CONTAINERS_CONF") == "" {
		conf := filepath.Join(dir, "containers.conf")
		if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "imagetest:", err)
			return 1
		}
		// Every podman (and the act → podman socket path) started by these tests inherits it.
		os.Setenv("CONTAINERS_CONF", conf)
	}
	code := m.Run()
	if socketCmd != nil {
		socketCmd.Process.Kill()
		socketCmd.Wait()
	}
	for _, name := range []string{imageName, helperName} {
		if name != "" {
			exec.Command("podman", "rmi", "--force", name).Run()
		}
	}
	return code
}

// inCI reports whether missing tooling must fail the tests rather than skip them.
func inCI() bool { return os.Getenv("CI") == "true" }

// missing fails in CI and skips elsewhere: a machine without container tooling can still run the
// rest of the suite, but CI must not go green without these tests.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + " (install with .ci/container-setup.sh)"
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip("SKIP imagetest: " + msg)
}

// tool finds a program on PATH or in the Go bin directory, where `go install` puts it.
func tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{goEnv(t, "GOBIN"), filepath.Join(goEnv(t, "GOPATH"), "bin")} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	missing(t, "%s not found", name)
	return ""
}

func goEnv(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// repoRoot is the directory holding the Dockerfile, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// podman runs podman and returns its stdout; stderr goes into the error.
func podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 30))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// requirePodman skips (or fails in CI) when podman cannot run containers here.
func requirePodman(t testing.TB) {
	t.Helper()
	tool(t, "podman")
	if _, err := podman(context.Background(), "info", "--format", "{{.Host.OCIRuntime.Name}}"); err != nil {
		missing(t, "podman does not work: %v", err)
	}
}

// image returns the name of the image built from the repository's Dockerfile. It is built once
// per test binary and removed by TestMain.
func image(t testing.TB) string {
	t.Helper()
	requirePodman(t)
	if _, err := os.Stat(busyboxPath); err != nil {
		missing(t, "%s not found (Debian package busybox-static)", busyboxPath)
	}
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		imageName, imageErr = buildImage(ctx, t)
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return imageName
}

func buildImage(ctx context.Context, t testing.TB) (string, error) {
	if err := ensureStandIns(ctx); err != nil {
		return "", err
	}
	// The Dockerfile's `go mod download` wants every module of the graph, test-only ones
	// included, which building the tests on the host does not fetch: fetch them first (from
	// the module proxy, the one registry this machine reaches) so the offline build finds them.
	dl := exec.CommandContext(ctx, "go", "mod", "download")
	dl.Dir = repoRoot(t)
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go mod download: %v\n%s", err, out)
	}
	name := fmt.Sprintf("localhost/scalingo-deploy:imagetest-%d", os.Getpid())
	start := time.Now()
	// The build gets the host's module cache read-only and no network at all (GOPROXY=off): the
	// tests reach nothing beyond this machine, and the host's build cache makes rebuilds quick.
	// --layers=false leaves no untagged build-stage image behind.
	_, err := podman(ctx, "build", "--pull=never", "--network=none", "--layers=false",
		"--build-arg", "GOPROXY=off",
		"--build-arg", "TARGETOS=linux", "--build-arg", "TARGETARCH="+runtime.GOARCH,
		"--build-arg", "VERSION=imagetest",
		"--volume", goEnv(t, "GOMODCACHE")+":/go/pkg/mod:ro",
		"--volume", goEnv(t, "GOCACHE")+":/root/.cache/go-build",
		"--tag", name, repoRoot(t))
	if err != nil {
		return "", fmt.Errorf("build the image: %w", err)
	}
	t.Logf("built %s in %s", name, time.Since(start).Round(time.Millisecond))
	return name, nil
}

const (
	busyboxPath = "/bin/busybox"
	caBundle    = "/etc/ssl/certs/ca-certificates.crt"
	goRoot      = "/usr/local/go"
)

// ensureStandIns makes the base images the Dockerfile names, unless real ones are present.
func ensureStandIns(ctx context.Context) error {
	key, err := standInKey()
	if err != nil {
		return err
	}
	for _, img := range []struct {
		name   string
		withGo bool
	}{{goImage, true}, {baseImage, false}} {
		label, err := podman(ctx, "image", "inspect", "--format", "{{index .Config.Labels \""+standInLabel+"\"}}", img.name)
		label = strings.TrimSpace(label)
		if err == nil && (label == key || label == "" || label == "<no value>") {
			continue // a real image, or our stand-in made from the same files
		}
		if err := makeStandIn(ctx, img.name, img.withGo, key); err != nil {
			return fmt.Errorf("make the stand-in for %s: %w", img.name, err)
		}
	}
	return nil
}

// standInKey changes when the files a stand-in is made of change.
func standInKey() (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, p := range []string{busyboxPath, caBundle, filepath.Join(goRoot, "VERSION")} {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, p, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// makeStandIn imports a root file system of busybox (a shell and the usual tools, as on alpine),
// the CA bundle and, for the build stage, the Go toolchain.
func makeStandIn(ctx context.Context, name string, withGo bool, key string) error {
	stage, err := os.MkdirTemp(setupDir, "rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	for _, d := range []string{"bin", "etc/ssl/certs", "root", "tmp", "usr/bin", "usr/local/bin", "go"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(stage, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := copyFile(busyboxPath, filepath.Join(stage, "bin/busybox"), 0o755); err != nil {
		return err
	}
	if err := copyFile(caBundle, filepath.Join(stage, "etc/ssl/certs/ca-certificates.crt"), 0o644); err != nil {
		return err
	}
	list, err := exec.CommandContext(ctx, busyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(stage, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "etc/group"), []byte("root:x:0:\n"), 0o644); err != nil {
		return err
	}

	tarArgs := []string{"-C", stage, "-cf", "-", "."}
	changes := []string{
		"LABEL " + standInLabel + "=" + key,
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"CMD [\"/bin/sh\"]",
	}
	if withGo {
		tarArgs = append(tarArgs, "-C", "/", strings.TrimPrefix(goRoot, "/"))
		changes = append(changes,
			"ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"ENV GOPATH=/go",
			"ENV GOTOOLCHAIN=local",
			"WORKDIR /go")
	}
	tarCmd := exec.CommandContext(ctx, "tar", tarArgs...)
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, "-", name)
	importCmd := exec.CommandContext(ctx, "podman", args...)
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	importCmd.Stdin = pipe
	var tarErr, importErr bytes.Buffer
	tarCmd.Stderr, importCmd.Stderr = &tarErr, &importErr
	if err := tarCmd.Start(); err != nil {
		return err
	}
	if err := importCmd.Run(); err != nil {
		tarCmd.Process.Kill()
		tarCmd.Wait()
		return fmt.Errorf("podman import: %w\n%s", err, importErr.String())
	}
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("tar: %w\n%s", err, tarErr.String())
	}
	return nil
}

func copyFile(from, to string, mode os.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// dockerSocket starts `podman system service` once, for tools that speak the Docker API (act).
func dockerSocket(t testing.TB) string {
	t.Helper()
	requirePodman(t)
	socketOnce.Do(func() {
		path := filepath.Join(setupDir, "podman.sock")
		cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			socketErr = fmt.Errorf("start podman system service: %w", err)
			return
		}
		socketCmd = cmd
		// Wait for the socket to accept connections, without sleeping for a fixed time.
		deadline := time.Now().Add(30 * time.Second)
		for {
			conn, err := net.Dial("unix", path)
			if err == nil {
				conn.Close()
				socketPath = path
				return
			}
			if time.Now().After(deadline) {
				socketErr = fmt.Errorf("podman system service did not listen on %s: %v\n%s", path, err, stderr.String())
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if socketErr != nil {
		t.Fatal(socketErr)
	}
	return socketPath
}
