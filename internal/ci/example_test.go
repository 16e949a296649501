package ci_test

import (
	"fmt"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

func ExampleDetect() {
	vars := map[string]string{
		"TRAVIS":              "true",
		"TRAVIS_BUILD_DIR":    "/home/travis/build/acme/web",
		"TRAVIS_COMMIT":       "9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39",
		"TRAVIS_PULL_REQUEST": "false",
	}
	getenv := func(k string) string { return vars[k] }

	c := ci.Detect(getenv)
	pr, err := c.PullRequest(getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Platform, c.Name, c.Dialect, c.DefaultOutputFile == "")
	fmt.Println(c.WorkspaceDir(getenv))
	fmt.Println(c.CommitSHA(getenv))
	fmt.Println("pull request:", pr.Number)
	// Output:
	// travis Travis CI plain true
	// /home/travis/build/acme/web
	// 9f2c4e1b7a3d5f60812c9e4b3a7d6f5e0c1b2a39
	// pull request: 0
}
