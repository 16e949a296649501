package imagetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// woodpeckerPipeline uses the image as a plugin, with the kebab-case setting names Woodpecker
// turns into PLUGIN_API_TOKEN etc., then reads the outputs in a later step, as docs/woodpecker.md
// shows. Woodpecker v1 syntax: steps is a map.
const woodpeckerPipeline = `skip_clone: true
steps:
  deploy:
    image: %s
    pull: false
    network_mode: host
    settings:
      app: %s
      api-token: %s
      api-url: %s
      auth-url: %s
  read-outputs:
    image: %s
    pull: false
    commands:
      - . ./scalingo-deploy.env
      - test "$SCALINGO_DEPLOYMENT_STATUS" = success
`

// TestWoodpeckerExec runs a pipeline with Woodpecker's own CLI (`woodpecker-cli exec`, docker
// backend through podman's Docker API), a real Woodpecker runner. v1.0.5 is the version the module
// proxy serves; .ci/container-setup.sh builds it.
func TestWoodpeckerExec(t *testing.T) {
	t.Parallel()
	img := image(t)
	cli := tool(t, "woodpecker-cli")
	sock := dockerSocket(t)
	srv := startFake(t)
	ws := newWorkspace(t)
	writeFile(t, ws, ".woodpecker.yaml", fmt.Sprintf(woodpeckerPipeline,
		img, appName, srv.APIToken, srv.APIURL, srv.AuthURL, baseImage))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "exec", "--backend-engine", "docker",
		"--repo", "acme/web", "--commit-sha", commitID, "--commit-branch", "main",
		".woodpecker.yaml")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("woodpecker-cli exec: %v\n%s", err, out)
	}
	checkDeployed(t, srv, readDotenv(t, filepath.Join(ws, "scalingo-deploy.env")), commitID, string(out))
}
