#!/usr/bin/env bash
# Several-targets benchmark (issue 9): one target against five in one region, wait=false,
# on the generated bench tree, side by side in one run (bench/targetsbench).
#
#   bench/targets.sh [SIZE_MB] [RUNS]      e.g. bench/targets.sh 250 5
set -euo pipefail

size=${1:-250}
runs=${2:-5}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scalingo-deploy-bench}
tree=$dir/tree-$size
cd "$(dirname "$0")/.."
mkdir -p "$dir"

go build -trimpath -o "$dir/scalingo-deploy" .
if [ ! -d "$tree" ]; then
	go run ./bench/gentree -out "$tree" -size "$size"
fi
tar -cf - -C "$tree" . >/dev/null # warm the page cache
go run ./bench/targetsbench -bin "$dir/scalingo-deploy" -path "$tree" -runs "$runs"
