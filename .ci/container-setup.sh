#!/bin/sh
# Installs what internal/imagetest needs on a fresh Debian 12 (or Ubuntu) machine, as root:
# podman and friends (no Docker daemon needed), busybox-static (the shell of the stand-in base
# images the tests make, since no registry can be reached), act and actionlint at pinned versions.
# Idempotent. The tests write their own containers.conf (runc, cgroupfs, ulimits) into a temp
# dir and set CONTAINERS_CONF themselves, so this script exports nothing.
set -eu

ACT_VERSION=v0.2.89
ACTIONLINT_VERSION=v1.7.12

need_apt=
for p in podman buildah runc uidmap fuse-overlayfs slirp4netns iptables busybox-static; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || need_apt=yes
done
if [ -n "$need_apt" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends podman buildah skopeo umoci runc uidmap \
		fuse-overlayfs slirp4netns containernetworking-plugins iptables busybox-static
fi

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
installed() { # name version: is $gobin/name built from that version?
	[ -x "$gobin/$1" ] && go version -m "$gobin/$1" 2>/dev/null | grep -q "mod.*[[:space:]]$2[[:space:]]"
}
installed act "$ACT_VERSION" || GOBIN=$gobin go install "github.com/nektos/act@$ACT_VERSION"
installed actionlint "$ACTIONLINT_VERSION" ||
	GOBIN=$gobin go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"

echo "container-setup: podman $(podman --version | cut -d' ' -f3), act $ACT_VERSION, actionlint $ACTIONLINT_VERSION in $gobin"
