package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scalingo-deploy/scalingo-deploy/internal/ci"
)

// workspace is where the CI checked out the code: the first of its workspace variables
// that is set (c.WorkspaceDir's choice, walked here to name the variable in errors), else
// the current directory (fromCI false), with its symlinks evaluated.
func workspace(c ci.CI, getenv func(string) string) (ws string, fromCI bool, err error) {
	for _, key := range c.Workspace {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			continue
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return "", false, &InputError{Input: key, Msg: err.Error()}
		}
		ws, err := evalExisting(abs)
		if err != nil {
			return "", false, &InputError{Input: key, Msg: err.Error()}
		}
		return ws, true, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false, fmt.Errorf("find the current directory: %w", err)
	}
	if ws, err = evalExisting(wd); err != nil {
		return "", false, fmt.Errorf("find the current directory: %w", err)
	}
	return ws, false, nil
}

// containedPath resolves p against the workspace and evaluates its symlinks, so that what
// is checked is what gets archived. A path the CI's workspace does not contain is refused:
// a pull request can commit `dist` as a link to a folder outside the checkout. A plain
// shell has no workspace to hold the path to.
func containedPath(ws string, fromCI bool, p string) (string, error) {
	lexical := resolve(ws, p)
	real, err := evalExisting(lexical)
	if err != nil {
		return "", err
	}
	if fromCI && !within(ws, real) {
		if real == lexical {
			return "", fmt.Errorf("%q is outside the workspace %q; a CI deploys from its checkout", real, ws)
		}
		return "", fmt.Errorf("%q resolves to %q, outside the workspace %q (a symlink leads out of the checkout)", lexical, real, ws)
	}
	return real, nil
}

// evalExisting evaluates the symlinks of the longest part of p that exists and keeps the
// missing rest as written: a missing path is archive.Build's to report ("does not exist"),
// but a link in front of it must not escape unseen. A link whose target is missing cannot
// be told apart from an escape, so it is an error.
func evalExisting(p string) (string, error) {
	cur, rest := p, ""
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if _, lerr := os.Lstat(cur); !errors.Is(err, fs.ErrNotExist) || !errors.Is(lerr, fs.ErrNotExist) {
			return "", fmt.Errorf("cannot resolve %q: %w", p, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within tells whether p is ws or below it; both are absolute and clean.
func within(ws, p string) bool {
	rel, err := filepath.Rel(ws, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func resolve(base, p string) string {
	if p == "" {
		return base
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}
