#!/bin/sh
# tests/vm/run.sh: run tests in a qemu guest on Debian's stock kernel.
#
#   tests/vm/run.sh [--rebuild] min|systemd [TEST...]
#
# min      busybox is PID 1 (tests/vm/init) on Debian's root disk: kernel
#          features this host lacks (dummy, 8021q, netem ...).  Runs the
#          host's build tree in place, shared read-only over 9p.
# systemd  Debian's systemd is PID 1; the build tree is `make install`ed
#          (DESTDIR) into a fresh copy of the root disk and netnsd.socket and
#          netnsd.service are enabled as shipped.  Tests may reboot the guest
#          or have its power cut (see tests/vm/guest/runner.sh).
#
# TEST is a path or glob relative to the source or the build tree; without
# one, the lines of tests/vm/GUEST.list are used ("PATH-OR-GLOB [noskip]";
# a skip of a noskip test counts as a failure).  Globs that match nothing are
# ignored, so the list can name tests that do not exist yet.
#
# Prints each test's TAP lines prefixed with the guest's name, then
# "vm-GUEST: N passed, N failed, N skipped".  Exit status 0 when nothing
# failed, 1 otherwise, 77 (with the reason) when no guest can run here.
#
# Environment: BUILD_DIR (default build/, must be built), NETNSD_VM_CACHE
# (default /var/cache/netnsd-vm: the guest, rebuilt when tests/vm/image.sh,
# tests/vm/init or the archive's kernel change), NETNSD_VM_TIMEOUT (seconds
# for the whole run, boots included; default 300), NETNSD_VM_ACCEL (tcg, the
# default, or kvm), NETNSD_VM_MEM (MiB, default 1024), NETNSD_VM_SMP (virtual
# CPUs, default 1: under TCG each is a busy host thread), NETNSD_VM_KEEP=1
# keeps the run directory (console logs, results).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/vm
build=$(cd "${BUILD_DIR:-$top/build}" 2>/dev/null && pwd) || build=${BUILD_DIR:-$top/build}
cache=${NETNSD_VM_CACHE:-/var/cache/netnsd-vm}
limit=${NETNSD_VM_TIMEOUT:-300}
accel=${NETNSD_VM_ACCEL:-tcg}
mem=${NETNSD_VM_MEM:-1024}
smp=${NETNSD_VM_SMP:-1}

rebuild=0
if [ "${1:-}" = --rebuild ]; then
	rebuild=1
	shift
fi
guest=${1:-}
case "$guest" in
min | systemd) shift ;;
*)
	sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
name=vm-$guest
t0=$(date +%s)

say() { echo "$name: $*" >&2; }

skip_all() {
	echo "1..0 # SKIP $name: $*"
	echo "$name: 0 passed, 0 failed, 1 skipped"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (debootstrap, the image cache)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
for c in debootstrap cpio mkfs.ext4 qemu-img; do
	command -v $c >/dev/null || skip_all "$c is not installed"
done
[ -x "$build/daemon/netnsd" ] || skip_all "$build/daemon/netnsd is not built"
if [ "$accel" = kvm ] && [ ! -w /dev/kvm ]; then
	say "no usable /dev/kvm, using tcg"
	accel=tcg
fi

# --- The guest image, cached by what it is made of. ---

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || skip_all "apt does not know linux-image-amd64 (run apt-get update)"
kcand=$(apt-cache policy "$kpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
key=$( (cat "$here/image.sh" "$here/init" "$here/netnsd-vm-runner.service"
	echo "$kpkg $kcand"; grep VERSION_CODENAME /etc/os-release) | sha256sum | cut -c1-16)
img=$cache/$key
mkdir -p "$cache"
# $cache/.lock is held while a guest is built or the cache pruned;
# $cache/KEY.lock, shared, by every run that boots guest KEY.
exec 9>"$cache/.lock"
flock 9
if [ "$rebuild" -eq 1 ] || [ ! -f "$img/rootfs.img" ]; then
	say "building the guest ($kpkg) in $img"
	b0=$(date +%s)
	# Other guests are of no further use unless a run still boots them.
	for d in "$cache"/*; do
		[ -d "$d" ] || continue
		k=${d##*/}
		k=${k%.new}
		if flock -xn "$cache/$k.lock" true; then
			rm -rf "$d" "$cache/$k.lock"
		fi
	done
	if ! nice -n 10 sh "$here/image.sh" "$img.new"; then
		rm -rf "$img.new"
		flock -u 9
		echo "not ok 1 - $name: building the guest image failed"
		echo "$name: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	mv "$img.new" "$img"
	say "guest built in $(($(date +%s) - b0)) s"
fi
exec 8>"$img.lock"
flock -s 8
flock -u 9
kver=$(cat "$img/KERNEL")

# --- This run: the tests, the shares, the disk. ---

run=$(mktemp -d /tmp/netnsd-vm.XXXXXX)
out=$run/out
mkdir -p "$out"
qpid=
finish() {
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	if [ "${NETNSD_VM_KEEP:-0}" = 1 ]; then
		say "kept $run"
	else
		rm -rf "$run"
	fi
}
trap finish EXIT
trap 'exit 99' INT TERM HUP

# "PATH [noskip]" lines, globs resolved against the build tree (programs)
# and the source tree (scripts).
if [ $# -gt 0 ]; then
	for a in "$@"; do echo "$a"; done
else
	sed -e 's/#.*//' "$here/$guest.list"
fi | while read -r pat flag; do
	[ -n "$pat" ] || continue
	found=0
	for f in "$build"/$pat "$top"/$pat; do
		case "$f" in
		"$build"/*) [ -f "$f" ] && [ -x "$f" ] && [ "${f%.py}" = "$f" ] || continue ;;
		*) [ -f "$f" ] || continue ;;
		esac
		grep -qxF "$f" "$out/tests" 2>/dev/null && continue
		echo "$f" >>"$out/tests"
		[ "$flag" = noskip ] && echo "$f" >>"$out/noskip"
		found=1
	done
	[ $found -eq 1 ] || echo "# $name: no test matches $pat" >&2
done
[ -s "$out/tests" ] || { echo "$name: no tests to run" >&2; exit 2; }
: >>"$out/noskip"

# The build tree's own test environment (TESTS_ENVIRONMENT in Makefile.am).
cat >"$out/env" <<EOF
NETNSD='$build/daemon/netnsd'
NETNSCTL='$build/client/netnsctl'
NETNSD_SHIM='$build/daemon/netnsd-shim'
TOP_SRCDIR='$top'
PYTHONPATH='$top/tests/lib'
NLT_BENCH=0
PROC_BENCH_N=50
EOF
echo "$top" >"$out/top"
echo "top $top" >"$out/shares"
shares="-virtfs local,path=$top,mount_tag=top,security_model=none,readonly=on"
case "$build/" in
"$top"/*) ;;
*)
	echo "build $build" >>"$out/shares"
	shares="$shares -virtfs local,path=$build,mount_tag=build,security_model=none,readonly=on"
	;;
esac

if [ "$guest" = min ]; then
	qemu-img create -q -f qcow2 -F raw -b "$img/rootfs.img" "$run/disk.qcow2"
	disk="file=$run/disk.qcow2,format=qcow2"
else
	# A fresh root disk with this build installed as `make install` would
	# (the prefix configure chose), the units enabled as a package would.
	d0=$(date +%s)
	make -s -C "$build" install DESTDIR="$run/stage" >"$run/install.log" 2>&1 ||
		{ cat "$run/install.log"; echo "$name: make install failed" >&2; exit 1; }
	cp -al "$img/root" "$run/root" 2>/dev/null || cp -a "$img/root" "$run/root"
	cp -a --remove-destination "$run/stage/." "$run/root/"
	chroot "$run/root" systemctl enable -q netnsd.socket netnsd.service ||
		{ echo "$name: systemctl enable failed" >&2; exit 1; }
	mkfs.ext4 -q -F -L netnsd-vm -d "$run/root" "$run/disk.img" 2G
	rm -rf "$run/root" "$run/stage"
	disk="file=$run/disk.img,format=raw"
	say "root disk with netnsd installed in $(($(date +%s) - d0)) s"
fi

# --- Boot, and boot again after a reboot or a power cut the guest asked for. ---
# A reboot is the guest's own (systemctl reboot: units stopped, disks
# synced, the kernel's restart); qemu then exits (-no-reboot) and is started
# afresh, a cold boot.  A warm reset under TCG left the next kernel's clock
# running on from the last one, with soft lockups all through the boot.

deadline=$((t0 + limit))
: >"$out/results"
boots=0
status=
while :; do
	boots=$((boots + 1))
	b0=$(date +%s)
	# shellcheck disable=SC2086
	qemu-system-x86_64 -name "netnsd-$name" -accel "$accel" -cpu max -smp "$smp" -m "$mem" \
		-nodefaults -no-user-config -display none -nic none -no-reboot \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "console=ttyS0 panic=-1 loglevel=4 netnsd_vm=$guest" \
		-drive "$disk,if=virtio,cache=writeback" -device virtio-rng-pci \
		-virtfs "local,path=$out,mount_tag=out,security_model=none" $shares \
		-serial "file:$run/console.$boots.log" </dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	cut=0
	while kill -0 "$qpid" 2>/dev/null; do
		if [ -e "$out/kill-request" ]; then
			kill -KILL "$qpid"
			rm -f "$out/kill-request"
			say "power cut (qemu killed) as the guest asked"
			cut=1
		elif [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL "$qpid"
			status="timed out after $limit s"
		fi
		sleep 0.2
	done
	wait "$qpid"
	qpid=
	say "boot $boots ran $(($(date +%s) - b0)) s"
	[ -n "$status" ] && break
	grep -q '^### done' "$out/results" 2>/dev/null && break
	[ "$cut" -eq 1 ] && continue
	if [ -e "$out/reboot-request" ]; then
		rm -f "$out/reboot-request"
		continue
	fi
	status="the guest stopped before its tests were done"
	break
done

if [ -n "$status" ] || [ ! -s "$out/results" ]; then
	say "${status:-no results}; the end of the console:"
	for f in "$run"/console.*.log; do
		echo "--- $f"
		tail -n 40 "$f"
	done >&2
	cat "$run/qemu.log" >&2
fi

# --- Results: TAP per test, then the summary line. ---

awk -v name="$name" -v noskipf="$out/noskip" -v status="$status" '
BEGIN { while ((getline l < noskipf) > 0) noskip[l] = 1 }
function flush_fail(msg) { failed++; print "not ok - " name ": " short ": " msg }
/^### begin / { cur = substr($0, 11); short = cur; sub(/.*\/tests\//, "tests/", short)
	tap = 0; next }
/^### end / {
	rc = $NF; sub(/^rc=/, "", rc)
	if (rc == 77 && tap == 0) { skipped++; print "ok - " name ": " short " # SKIP exit 77" }
	else if (rc != 0 && !curfail) flush_fail("exit status " rc)
	else if (rc == 0 && tap == 0) { passed++; print "ok - " name ": " short }
	cur = ""; curfail = 0; next }
/^### (boot|failed unit|reboot|power|resume)/ { print "# " name ": " substr($0, 5); next }
/^### done/ { done = 1; next }
cur == "" { next }
/^ok / || /^not ok / || /^1\.\.0 # SKIP/ {
	tap++
	if ($0 ~ /^not ok /) { failed++; curfail = 1; print name ": " short ": " $0; next }
	if ($0 ~ /# SKIP/) {
		if (cur in noskip) { failed++; curfail = 1
			print name ": " short ": not ok (skipped, but it must pass here): " $0 }
		else { skipped++; print name ": " short ": " $0 }
		next }
	passed++; print name ": " short ": " $0; next }
/^# / && curfail { print name ": " short ": " $0 }
END {
	if (cur != "") flush_fail("did not finish (" (status != "" ? status : "guest stopped") ")")
	if (!done && cur == "") { failed++; print "not ok - " name ": the tests did not run (" \
		(status != "" ? status : "guest stopped") ")" }
	printf "%s: %d passed, %d failed, %d skipped\n", name, passed, failed, skipped
	exit failed ? 1 : 0
}' "$out/results" || rc=1
say "kernel $kver, $boots boot(s), $(($(date +%s) - t0)) s in all"
exit "${rc:-0}"
