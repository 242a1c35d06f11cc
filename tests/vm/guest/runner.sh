#!/bin/sh
# tests/vm/guest/runner.sh min|systemd: runs inside a test guest, started by
# tests/vm/init (min guest, chrooted) or by netnsd-vm-runner.service (systemd
# guest).  Runs the tests listed in /vm/out/tests (absolute paths; *.py with
# python3, others executed) and appends their output to /vm/out/results
# between "### begin PATH" and "### end PATH rc=N" lines that run.sh parses.
#
# /vm/out is the host's per-run directory (9p), so nothing the runner keeps
# depends on the guest's disk surviving a power cut.  In the systemd guest a
# test may span boots: exit status 100 asks for `systemctl reboot` (qemu
# exits at the kernel's restart and the host starts it again: a cold boot),
# 101 for a hard power-off by the host (qemu killed); either way the test is
# run again after the next boot with VM_PHASE one higher (0 the first time).
out=/vm/out
mode=$1
state=$out/state
mkdir -p "$state"
exec >>"$out/results" 2>&1

set -a
. "$out/env"
set +a
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH VM_OUT=$out VM_MODE=$mode PYTHONDONTWRITEBYTECODE=1
cd /tmp || exit 1

boots=$(($(cat "$state/boots" 2>/dev/null || echo 0) + 1))
echo "$boots" >"$state/boots"
if [ "$mode" = systemd ]; then
	systemctl is-system-running --wait >/dev/null 2>&1
	echo "### boot $boots: $(systemctl is-system-running 2>&1);" \
		"$(systemd-analyze time 2>/dev/null | head -1)"
	systemctl --no-legend --state=failed list-units 2>/dev/null | sed 's/^/### failed unit: /'
else
	echo "### boot $boots: $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s"
fi

# progress: "INDEX PHASE" of the test to run next (1-based).
set -- $(cat "$state/progress" 2>/dev/null || echo "1 0")
next=$1 phase=$2
i=0
while read -r t; do
	i=$((i + 1))
	[ "$i" -lt "$next" ] && continue
	if [ "$phase" -eq 0 ]; then
		echo "### begin $t"
	else
		echo "### resume $t phase $phase"
	fi
	case "$t" in
	*.py) VM_PHASE=$phase python3 "$t" ;;
	*) VM_PHASE=$phase "$t" ;;
	esac
	rc=$?
	if [ "$mode" = systemd ] && { [ "$rc" -eq 100 ] || [ "$rc" -eq 101 ]; }; then
		echo "$i $((phase + 1))" >"$state/progress"
		if [ "$rc" -eq 100 ]; then
			echo "### reboot requested by $t"
			: >"$out/reboot-request"
			systemctl reboot
		else
			echo "### power cut requested by $t"
			: >"$out/kill-request"
		fi
		exec sleep infinity
	fi
	echo "### end $t rc=$rc"
	phase=0
	echo "$((i + 1)) 0" >"$state/progress"
done <"$out/tests"
echo "### done"
if [ "$mode" = systemd ]; then
	systemctl poweroff
	exec sleep infinity
fi
