#!/bin/sh
# Build the libFuzzer harnesses of netnsd's pure parsers with clang
# (-fsanitize=fuzzer,address,undefined) and run each for a bounded time.
#
# Usage: contrib/fuzz/run.sh [SECONDS]      (default 20 seconds per harness)
#
# Environment:
#   CC         the compiler (default clang); it must support -fsanitize=fuzzer
#   FUZZ_OUT   build and work directory, kept (default: a new mktemp directory,
#              removed again unless something was found)
#   FUZZ_ONLY  run only this harness (jsonrpc, state, linkspec, topology or netnsctl)
#
# Exit status: 0 when every harness ran its time without a finding, 1 when one
# crashed, leaked, timed out or broke an invariant (the reproducer is saved
# as FUZZ_OUT/NAME-crash-* (or -leak-, -timeout-); replay it with
# FUZZ_OUT/fuzz-NAME FILE), 2 when the harnesses cannot be built.  The seed
# corpora in contrib/fuzz/ are only read; new inputs go to FUZZ_OUT/corpus-NAME.
set -eu

T=${1:-20}
case $T in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-clang}
if [ -n "${FUZZ_OUT:-}" ]; then
	out=$FUZZ_OUT
	keep=1
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/netnsd-fuzz.XXXXXX")
	keep=0
fi
mkdir -p "$out"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "$0: $CC not found; install clang (with libclang-rt) to fuzz" >&2
	exit 2
fi
if ! deps=$(pkg-config --cflags --libs jansson libuv 2>/dev/null); then
	echo "$0: pkg-config cannot find jansson and libuv" >&2
	exit 2
fi

# The daemon sources expect config.h first; the pure ones need only this.
printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n' >"$out/config.h"
CFLAGS="-g -O1 -fno-omit-frame-pointer -std=gnu11 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-include $out/config.h -I$top/daemon"

d=$top/daemon
extra= extra_libs=
build() {
	name=$1
	shift
	echo "== building fuzz-$name"
	# shellcheck disable=SC2086 # CFLAGS and deps are word lists
	if ! $CC $CFLAGS $extra -o "$out/fuzz-$name" "$here/fuzz-$name.c" "$@" $deps $extra_libs; then
		echo "$0: failed to build fuzz-$name" >&2
		exit 2
	fi
}
build jsonrpc "$d/jsonrpc.c" "$d/dispatch.c" "$d/state.c" "$d/util.c" "$d/log.c"
build state "$d/state.c" "$d/util.c" "$d/log.c"
if ! mnl=$(pkg-config --cflags --libs libmnl 2>/dev/null); then
	echo "$0: pkg-config cannot find libmnl" >&2
	exit 2
fi
# spec.c names route types through views.c, which reads the stored state.
kernel_side="$d/spec.c $d/nl.c $d/tc.c $d/links.c $d/state.c $d/netns.c $d/nlcache.c $d/views.c $d/util.c $d/log.c"
# shellcheck disable=SC2086 # word lists
build linkspec $kernel_side $mnl
# shellcheck disable=SC2086 # word lists
build topology "$d/topology_doc.c" $kernel_side $mnl
# netnsctl whole, main() renamed; the harness stands in for the daemon (see it).
extra="-I$top/client -Dmain=netnsctl_main"
# shellcheck disable=SC2046 # one word per client source
build netnsctl $(ls "$top"/client/*.c)
extra=

status=0
for name in jsonrpc state linkspec topology netnsctl; do
	if [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ]; then
		continue
	fi
	mkdir -p "$out/corpus-$name"
	echo "== running fuzz-$name for ${T}s (log: $out/fuzz-$name.log)"
	# UBSan findings abort (-fno-sanitize-recover); leaks are checked per input.
	if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		"$out/fuzz-$name" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 \
		-max_len=16384 -print_final_stats=1 -artifact_prefix="$out/$name-" \
		-dict="$here/$name.dict" "$out/corpus-$name" "$here/corpus-$name" >"$out/fuzz-$name.log" 2>&1; then
		grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' \
			"$out/fuzz-$name.log" | tail -n 2
		echo "== fuzz-$name: no findings"
	else
		status=1
		echo "== fuzz-$name: FINDING" >&2
		tail -n 60 "$out/fuzz-$name.log" >&2
		ls -l "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* "$out/$name"-oom-* 2>/dev/null >&2 || true
	fi
done
if [ $status -eq 0 ]; then
	echo "== all harnesses clean"
	[ "$keep" = 1 ] || rm -rf "$out"
else
	echo "== findings and logs are in $out" >&2
fi
exit $status
