//go:build tools

// This file pins the project's dependencies in go.mod until code imports them.
package tools

import (
	_ "github.com/coder/websocket"
	_ "github.com/go-git/go-git/v5/plumbing/format/gitignore"
	_ "github.com/klauspost/pgzip"
	_ "github.com/mholt/archives"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/sethvargo/go-githubactions"
)
