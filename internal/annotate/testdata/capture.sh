#!/bin/sh
# capture.sh regenerates logs/*.log: the real output of compilers and runtimes on the
# broken sources in repo/, each run as Scalingo's builder runs it: from a copy of the
# app's PROJECT_DIR (api, native, web, worker, rust, java) in a fresh /tmp/build_XXXXXXXX,
# the paths given as a buildpack gives them (absolute for gcc, python3 and node; relative
# to the build dir for go, tsc, rustc and javac).
#
# Needs go, gcc, python3, node with npm (TypeScript and ESLint are installed, pinned, in a
# temp dir),
# rustc and javac. Run it from anywhere: sh internal/annotate/testdata/capture.sh
# The build dirs' random names end up in the logs, as they would in a real build log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$here/logs
mkdir -p "$out"
typescript=typescript@5.6.3
eslint=eslint@8.57.1 # the last ESLint with the unix formatter built in

# build copies repo/$1 into a fresh build dir and prints its path.
build() {
	dir=$(mktemp -d /tmp/build_XXXXXXXX)
	cp -R "$here/repo/$1/." "$dir/"
	echo "$dir"
}

# run NAME DIR CMD…: runs CMD in DIR, keeps its output as logs/NAME.log, removes DIR.
run() {
	name=$1 dir=$2
	shift 2
	(cd "$dir" && "$@") >"$out/$name.log" 2>&1
	echo "$name: exit $?"
	rm -rf "$dir"
}

d=$(build api)
run go "$d" env GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o /dev/null ./...
d=$(build native)
run gcc "$d" gcc -Wall -c "$d/src/main.c" -o /dev/null
d=$(build worker)
run python "$d" python3 "$d/app.py"
d=$(build worker)
run python-syntax "$d" python3 "$d/jobs/syntax.py"
d=$(build web)
run node "$d" node "$d/server.js"
d=$(build rust)
run rustc "$d" rustc --edition 2021 --color never -o /dev/null src/main.rs
d=$(build java)
run javac "$d" javac -d "$d/classes" src/main/java/com/example/App.java

tools=$(mktemp -d)
npm install --silent --no-audit --no-fund --prefix "$tools" "$typescript" "$eslint" >/dev/null 2>&1
d=$(build web)
run tsc "$d" "$tools/node_modules/.bin/tsc" -p . --pretty false
d=$(build web)
# What tsc prints to a terminal, as `npm run build` under a TTY-faking builder may show.
run tsc-pretty "$d" "$tools/node_modules/.bin/tsc" -p . --pretty true
d=$(build web)
run eslint "$d" "$tools/node_modules/.bin/eslint" --format unix "$d/lib"
d=$(build web)
run eslint-stylish "$d" "$tools/node_modules/.bin/eslint" "$d/lib" # ESLint's default format
rm -rf "$tools"
