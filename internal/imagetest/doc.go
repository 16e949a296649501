// Package imagetest builds the container image from the repository's Dockerfile and runs it the
// way GitHub Actions (through act), GitLab CI's Docker executor, Drone and Woodpecker do, against
// the fake Scalingo. It holds only tests; see podman_test.go for the machine setup they need.
package imagetest
