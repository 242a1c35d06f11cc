#!/bin/sh
# run-driver.sh: build a benchmark's C tools and run its driver.
#
# Usage: tests/bench/run-driver.sh lab|events|proc|topology|multihost [BUILD_DIR] [-- OPTIONS...]
#
#   lab     bench_lab.py with lab-floor (issue 3; see README.lab)
#   events  bench_events.py with event-burst and event-sub (issue 5; README.events)
#   proc    bench_proc.py (issue 4; it compiles spawn-floor.c itself)
#   topology bench_topology.py with lab-floor (issue 8; README.topology)
#   multihost bench_multihost.py (issue 11; README.multihost)
#
# The netnsd measured is $NETNSD if set, else BUILD_DIR/daemon/netnsd, else
# ./daemon/netnsd.  The C tools are compiled with ${CC:-cc} -O2 into a
# temporary directory that is removed afterwards.  DRIVER_OPTIONS go to the
# driver (see --help there; --quick for a smoke run).  Needs root; exit status
# 0 when the run completed, whether or not the targets were met; 1 when
# something broke; 2 on a usage error; 77 when it cannot run here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
me=run-driver.sh
case ${1:-} in
lab) driver=bench_lab.py tools="lab-floor" ;;
events) driver=bench_events.py tools="event-burst event-sub" ;;
proc) driver=bench_proc.py tools="" ;;
topology) driver=bench_topology.py tools="lab-floor" ;;
multihost) driver=bench_multihost.py tools="" ;;
*)
	sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
shift
build=.
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	build=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

netnsd=${NETNSD:-$build/daemon/netnsd}
if [ ! -x "$netnsd" ]; then
	echo "$me: no netnsd at '$netnsd' (build it, or pass the build dir or NETNSD=PATH)" >&2
	exit 1
fi
case $netnsd in /*) ;; *) netnsd=$(pwd)/$netnsd ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "$me: SKIP: the benchmark creates network namespaces and needs root" >&2
	exit 77
fi
for dep in python3 ip "${CC:-cc}"; do
	if ! command -v "$dep" >/dev/null 2>&1; then
		echo "$me: SKIP: '$dep' is not installed" >&2
		exit 77
	fi
done

bin=$(mktemp -d "${TMPDIR:-/tmp}/netnsd-bench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM
for tool in $tools; do
	${CC:-cc} -O2 -g -Wall -Wextra -Wno-unused-parameter -o "$bin/$tool" "$here/$tool.c"
done

status=0
if [ -n "$tools" ]; then
	python3 "$here/$driver" --netnsd "$netnsd" --bin-dir "$bin" "$@" || status=$?
else
	python3 "$here/$driver" --netnsd "$netnsd" "$@" || status=$?
fi
exit $status
