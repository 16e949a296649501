#!/bin/sh
# Usage: .github/pin-action-image.sh docker://ghcr.io/OWNER/REPO:1.2.3 [action.yml]
# Points action.yml at a prebuilt image instead of the Dockerfile, so that users of a release pull
# an image instead of building one on every run. The release workflow runs it on the release
# commit only; the tests run it too.
set -eu
image=$1
file=${2:-action.yml}
case $image in
docker://*) ;;
*)
	echo "pin-action-image: $image: want docker://IMAGE:TAG" >&2
	exit 2
	;;
esac
grep -q '^  image: Dockerfile$' "$file" || {
	echo "pin-action-image: $file has no '  image: Dockerfile' line" >&2
	exit 1
}
sed "s|^  image: Dockerfile\$|  image: $image|" "$file" >"$file.tmp"
mv "$file.tmp" "$file"
grep -q "^  image: $image\$" "$file"
