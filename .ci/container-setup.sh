#!/bin/sh
# Installs what internal/imagetest needs on a fresh Debian 12 (or Ubuntu) machine, as root:
# podman and friends (no Docker daemon needed), busybox-static (the shell of the stand-in base
# images the tests make, since no registry can be reached), act, actionlint and woodpecker-cli at
# pinned versions, and gitlab-ci-local (a real local GitLab CI runner, from npm; it needs Node and
# rsync on the host; 4.74.0 and 4.75.1 crash on Node 20) into npm's global prefix.
# Idempotent. The tests write their own containers.conf (runc, cgroupfs, ulimits) into a temp
# dir and set CONTAINERS_CONF themselves, so this script exports nothing.
set -eu

ACT_VERSION=v0.2.89
ACTIONLINT_VERSION=v1.7.12
# The only Woodpecker the module proxy serves; its go.mod names another module path, so it cannot be
# `go install`ed: build ./cmd/cli from a copy of the downloaded module.
WOODPECKER_VERSION=v1.0.5
GITLAB_CI_LOCAL_VERSION=4.73.0

need_apt=
for p in podman buildah runc uidmap fuse-overlayfs slirp4netns iptables busybox-static rsync; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || need_apt=yes
done
if [ -n "$need_apt" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends podman buildah skopeo umoci runc uidmap \
		fuse-overlayfs slirp4netns containernetworking-plugins iptables busybox-static rsync
fi
if ! command -v npm >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends nodejs npm
fi

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
installed() { # name version: is $gobin/name built from that version?
	[ -x "$gobin/$1" ] && go version -m "$gobin/$1" 2>/dev/null | grep -q "mod.*[[:space:]]$2[[:space:]]"
}
installed act "$ACT_VERSION" || GOBIN=$gobin go install "github.com/nektos/act@$ACT_VERSION"
installed actionlint "$ACTIONLINT_VERSION" ||
	GOBIN=$gobin go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"

if ! "$gobin/woodpecker-cli" --version 2>/dev/null | grep -q "version ${WOODPECKER_VERSION#v}\$"; then
	src=$(go mod download -json "github.com/woodpecker-ci/woodpecker@$WOODPECKER_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || {
		echo "container-setup: woodpecker $WOODPECKER_VERSION: module not downloaded" >&2
		exit 1
	}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp -R "$src/." "$tmp/"
	chmod -R u+w "$tmp"
	(cd "$tmp" && GOFLAGS=-mod=mod go build -trimpath \
		-ldflags "-s -w -X go.woodpecker-ci.org/woodpecker/version.Version=${WOODPECKER_VERSION#v}" \
		-o "$gobin/woodpecker-cli" ./cmd/cli)
fi

# Into npm's global prefix (its bin is usually on PATH; the tests also look there).
npmbin=$(npm prefix --global)/bin
if [ "$("$npmbin/gitlab-ci-local" --version 2>/dev/null)" != "$GITLAB_CI_LOCAL_VERSION" ]; then
	npm install --global --no-fund --no-audit "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION"
fi

echo "container-setup: podman $(podman --version | cut -d' ' -f3), act $ACT_VERSION, actionlint $ACTIONLINT_VERSION, woodpecker-cli $WOODPECKER_VERSION in $gobin, gitlab-ci-local $GITLAB_CI_LOCAL_VERSION in $npmbin"
