#!/bin/sh
# contrib/build.sh: install build dependencies (Debian/Ubuntu, with apt-get,
# only when missing), build netnsd out of tree, and run it or its tests.
#
#   contrib/build.sh run        build, then run netnsd in the foreground with its defaults
#   contrib/build.sh check      build, then run the whole test suite (make check)
#   contrib/build.sh deps       only install what is missing
#   contrib/build.sh build      only build
#
# Environment: BUILD_DIR (default build/), CONFIGURE_FLAGS, CFLAGS, LDFLAGS.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}

# Build and test dependencies, by Debian package name.
PACKAGES="gcc make autoconf automake pkg-config libuv1-dev libjansson-dev libmnl-dev
libsystemd-dev iproute2 iputils-ping python3 systemd util-linux procps passwd"

deps() {
	missing=
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "build.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "build.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build() {
	deps
	if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
	   [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
		(cd "$top" && autoreconf -fi)
	fi
	mkdir -p "$build"
	cd "$build"
	if [ ! -f Makefile ]; then
		# shellcheck disable=SC2086
		"$top/configure" --enable-werror ${CONFIGURE_FLAGS:-} >/dev/null
	fi
	make -j"$(nproc)" >/dev/null
}

case "${1:-}" in
deps)
	deps
	;;
build)
	build
	;;
run)
	build
	shift
	echo "build.sh: starting $build/daemon/netnsd (Ctrl-C stops it)" >&2
	exec "$build/daemon/netnsd" "$@"
	;;
check)
	build
	cd "$build"
	make -j"$(nproc)" check
	;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
