# tests/vm/guest/tap.sh: TAP helpers for the guests' shell tests (sourced).
#
#   check DESC CMD [ARG]...   "ok" when CMD succeeds, else "not ok" with its output
#   pass DESC / fail DESC [WHY]
#   note TEXT                 a "# TEXT" line
#   waitfor SECONDS CMD...    run CMD every 0.2 s until it succeeds (status 0) or time runs out
#   finish                    exit 0 when nothing failed, 1 otherwise
#
# Numbers continue across phases of a test that reboots (VM_PHASE), since the
# runner counts lines, not the plan.
tap_n=0
tap_failed=0

pass() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

fail() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}

note() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

check() {
	desc=$1
	shift
	if tap_out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc" "\$ $*
$tap_out"
	fi
}

waitfor() {
	tap_end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$tap_end" ] && return 1
		sleep 0.2
	done
}

finish() {
	[ "$tap_failed" -eq 0 ]
	exit $?
}
