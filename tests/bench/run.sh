#!/bin/sh
# run.sh: build the benchmark's C helpers and run the netnsd benchmark.
#
# Usage: tests/bench/run.sh [BUILD_DIR] [-- DRIVER_OPTIONS...]
#
# The netnsd measured is $NETNSD if set, else BUILD_DIR/daemon/netnsd, else
# ./daemon/netnsd (run from a build directory).  The helpers (netns-floor,
# echo-floor, rpc-load) are compiled with ${CC:-cc} -O2 and pkg-config's
# flags for libuv and jansson into a temporary directory that is removed
# afterwards.  DRIVER_OPTIONS go to bench_netns.py (see --help there, e.g.
# --quick for a smoke run).  Needs root; exit status 0 when the run completed,
# whether or not the targets were met; 1 when something broke; 77 when it
# cannot run here.
#
# shellcheck disable=SC2086 # $CC, $cflags and $uv are word lists on purpose
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=.
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	build=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

netnsd=${NETNSD:-$build/daemon/netnsd}
if [ ! -x "$netnsd" ]; then
	echo "run.sh: no netnsd at '$netnsd' (build it, or pass the build dir or NETNSD=PATH)" >&2
	exit 1
fi
case $netnsd in /*) ;; *) netnsd=$(pwd)/$netnsd ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: SKIP: the benchmark creates network namespaces and needs root" >&2
	exit 77
fi
for dep in python3 ip pkg-config "${CC:-cc}"; do
	if ! command -v "$dep" >/dev/null 2>&1; then
		echo "run.sh: SKIP: '$dep' is not installed" >&2
		exit 77
	fi
done

bin=$(mktemp -d "${TMPDIR:-/tmp}/netnsd-bench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM

cflags="-O2 -g -Wall -Wextra -Wno-unused-parameter"
uv=$(pkg-config --cflags --libs libuv jansson)
${CC:-cc} $cflags -o "$bin/netns-floor" "$here/netns-floor.c"
${CC:-cc} $cflags -o "$bin/rpc-load" "$here/rpc-load.c"
${CC:-cc} $cflags -o "$bin/echo-floor" "$here/echo-floor.c" $uv

status=0
python3 "$here/bench_netns.py" --netnsd "$netnsd" --bin-dir "$bin" "$@" || status=$?
exit $status
