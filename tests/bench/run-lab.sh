#!/bin/sh
# run-lab.sh: build lab-floor and run the lab benchmark (issue 3).
#
# Usage: tests/bench/run-lab.sh [BUILD_DIR] [-- DRIVER_OPTIONS...]
#
# The netnsd measured is $NETNSD if set, else BUILD_DIR/daemon/netnsd, else
# ./daemon/netnsd.  lab-floor.c is compiled with ${CC:-cc} -O2 into a
# temporary directory that is removed afterwards.  DRIVER_OPTIONS go to
# bench_lab.py (see --help there; --quick for a smoke run).  Needs root; exit
# status 0 when the run completed, whether or not the targets were met; 1
# when something broke; 77 when it cannot run here.  See README.lab.
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
	echo "run-lab.sh: no netnsd at '$netnsd' (build it, or pass the build dir or NETNSD=PATH)" >&2
	exit 1
fi
case $netnsd in /*) ;; *) netnsd=$(pwd)/$netnsd ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "run-lab.sh: SKIP: the benchmark creates network namespaces and needs root" >&2
	exit 77
fi
for dep in python3 ip "${CC:-cc}"; do
	if ! command -v "$dep" >/dev/null 2>&1; then
		echo "run-lab.sh: SKIP: '$dep' is not installed" >&2
		exit 77
	fi
done

bin=$(mktemp -d "${TMPDIR:-/tmp}/netnsd-lab-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM

${CC:-cc} -O2 -g -Wall -Wextra -Wno-unused-parameter -o "$bin/lab-floor" "$here/lab-floor.c"

status=0
python3 "$here/bench_lab.py" --netnsd "$netnsd" --bin-dir "$bin" "$@" || status=$?
exit $status
