#!/usr/bin/env bash
# Archive benchmark (issue 3 "Targets"): GNU tar -czf against this product's
# archive step (archive.Build through bench/archivebench), in the same run, on
# the same generated tree, page cache warm for both.
#
#   bench/run.sh [SIZE_MB] [RUNS]      e.g. bench/run.sh 250 3, bench/run.sh 1000 1
#
# The tree is generated once (deterministically) under $BENCH_DIR
# (default: $TMPDIR or /tmp, then scalingo-deploy-bench) and reused.
# Needs: go, GNU tar, gzip, /usr/bin/time (GNU time).
set -euo pipefail

size=${1:-250}
runs=${2:-3}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scalingo-deploy-bench}
tree=$dir/tree-$size
cd "$(dirname "$0")/.."
mkdir -p "$dir"

go build -o "$dir/archivebench" ./bench/archivebench
if [ ! -d "$tree" ]; then
	go run ./bench/gentree -out "$tree" -size "$size"
fi
# Warm the page cache so that both sides read from memory.
tar -cf - -C "$tree" . >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$dir/tar.times"
: >"$dir/ours.times"
for _ in $(seq "$runs"); do
	/usr/bin/time -f '%e %M' -a -o "$dir/tar.times" tar -czf "$dir/tar.tgz" -C "$tree" .
	/usr/bin/time -f '%e %M' -a -o "$dir/ours.times" "$dir/archivebench" -path "$tree" -keep "$dir/ours.tgz" >"$dir/ours.json"
done

tar_s=$(awk '{print $1}' "$dir/tar.times" | median)
ours_s=$(awk '{print $1}' "$dir/ours.times" | median)
ours_rss=$(awk '{print $2}' "$dir/ours.times" | sort -n | tail -1)
tar_bytes=$(stat -c %s "$dir/tar.tgz")
ours_bytes=$(stat -c %s "$dir/ours.tgz")

# Same content: the two archives list the same paths (tar's "./", our "app/" stripped).
tar -tzf "$dir/tar.tgz" | sed 's|^\./||' | sort >"$dir/tar.list"
tar -tzf "$dir/ours.tgz" | sed 's|^app/||' | sort >"$dir/ours.list"
if ! cmp -s "$dir/tar.list" "$dir/ours.list"; then
	echo "archives differ in content:" >&2
	diff "$dir/tar.list" "$dir/ours.list" | head >&2
	exit 1
fi

files=$(grep -v '/$' "$dir/ours.list" | grep -vc '^$' || true)
awk -v size="$size" -v files="$files" -v runs="$runs" -v ts="$tar_s" -v os="$ours_s" -v tb="$tar_bytes" -v ob="$ours_bytes" -v rss="$ours_rss" -v cpus="$(nproc)" 'BEGIN {
	printf "| tree | cores | runs | tar -czf | archive.Build | time ratio (target <= 0.333) | tar.gz bytes | ours bytes | size ratio (target <= 1.05) | our peak RSS (target <= 64 MiB) |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	printf "| %s MB, %d files | %d | %d | %.2f s | %.2f s | %.3f | %d | %d | %.3f | %.1f MiB |\n", size, files, cpus, runs, ts, os, os/ts, tb, ob, ob/tb, rss/1024
}'
