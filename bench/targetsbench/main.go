// Command targetsbench measures a deploy to one target against the same deploy to five
// (issue 9), side by side in one run: the scalingo-deploy binary is run with wait=false
// against the in-process fake Scalingo, alternating 1 and 5 targets, on the same tree.
// Uploads go to a sink that reads and drops the bytes: a real object store takes five
// uploads on its own machines, while a storage server sharing this machine's two cores
// would measure itself. It prints the median wall time of each, their ratio, the largest
// peak RSS of the binary (GNU time), and the API requests per target.
//
//	go run ./bench/targetsbench -bin /tmp/scalingo-deploy -path TREE -runs 5
//
// bench/targets.sh builds the binary and the tree and calls it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo"
)

func main() {
	bin := flag.String("bin", "", "the scalingo-deploy binary")
	path := flag.String("path", "", "the tree to deploy")
	runs := flag.Int("runs", 5, "runs of each")
	flag.Parse()
	if err := run(*bin, *path, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "targetsbench:", err)
		os.Exit(1)
	}
}

func run(bin, path string, runs int) error {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer sink.Close()
	s, err := fakescalingo.Start(fakescalingo.Options{Storage: sinkStorage(sink.URL), DirectUpload: true})
	if err != nil {
		return err
	}
	defer s.Close()
	apps := []string{"bench-1", "bench-2", "bench-3", "bench-4", "bench-5"}
	for _, a := range apps {
		s.AddApp(a, fakescalingo.Scenario{})
	}
	type sample struct {
		wall   time.Duration
		rssKiB int64
		reqs   int
	}
	samples := map[int][]sample{}
	for i := 0; i < runs; i++ {
		for _, n := range []int{1, 5} {
			before := len(s.Requests())
			rssFile := filepath.Join(os.TempDir(), "targetsbench.rss")
			cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", rssFile, bin, "--app", strings.Join(apps[:n], ","), "--path", path, "--wait=false")
			cmd.Env = append(os.Environ(), "SCALINGO_API_URL="+s.APIURL, "SCALINGO_AUTH_URL="+s.AuthURL,
				"SCALINGO_API_TOKEN="+s.APIToken, "SCALINGO_GIT_REF=bench")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%d targets: %v\n%s", n, err, out.String())
			}
			wall := time.Since(start)
			api := 0
			for _, r := range s.Requests()[before:] {
				if r.Server == "api" || r.Server == "auth" {
					api++
				}
			}
			data, err := os.ReadFile(rssFile)
			if err != nil {
				return err
			}
			rss, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
			if err != nil {
				return fmt.Errorf("GNU time's output %q: %v", data, err)
			}
			samples[n] = append(samples[n], sample{wall, rss, api})
		}
	}
	median := func(ss []sample) time.Duration {
		ws := make([]time.Duration, len(ss))
		for i, s := range ss {
			ws[i] = s.wall
		}
		slices.Sort(ws)
		return ws[len(ws)/2]
	}
	var rss int64
	for _, ss := range samples {
		for _, s := range ss {
			rss = max(rss, s.rssKiB)
		}
	}
	one, five := median(samples[1]), median(samples[5])
	fmt.Printf("| 1 target | 5 targets | ratio | peak RSS | API requests per target (1 / 5) |\n|---|---|---|---|---|\n")
	fmt.Printf("| %.2f s | %.2f s | %.2f | %.1f MiB | %.1f / %.1f |\n", one.Seconds(), five.Seconds(),
		five.Seconds()/one.Seconds(), float64(rss)/1024, float64(samples[1][0].reqs), float64(samples[5][0].reqs)/5)
	return nil
}

// sinkStorage signs URLs on the sink: any PUT is taken and dropped.
type sinkStorage string

func (s sinkStorage) Presign(_ context.Context, key string, _ time.Duration) (string, string, error) {
	u := string(s) + "/" + key + "?X-Amz-Signature=bench"
	return u, u, nil
}
