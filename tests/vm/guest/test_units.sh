#!/bin/sh
# The shipped units under the real systemd (PID 1 of the systemd guest, where
# tests/vm/run.sh has installed the build with `make install` and enabled
# netnsd.socket and netnsd.service): sysusers and tmpfiles applied at boot,
# `systemd-analyze verify` clean, socket activation on the first connect,
# Type=notify readiness and status, supervised processes surviving
# `systemctl restart` and `stop` (KillMode=process), and the
# `systemd-analyze security` exposure score (printed, and written to
# $VM_OUT/security.txt for the host).
. "$(dirname "$0")/tap.sh"

unitdir=$(dirname "$(systemctl show -P FragmentPath netnsd.service)")
sock=/run/netnsd/netnsd.sock
ns=vmunits

prop() { systemctl show -P "$2" "$1"; }

is() { # DESC EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# Processes that share the listening socket at $sock (ss -xlp lists them).
listeners() {
	ss -H -xlp src "$sock" | grep -o '"[^"]*",pid=' | cut -d'"' -f2 | sort -u | tr '\n' ' '
}

proc_state() { # NAME: the STATE column of `netnsctl proc list`
	netnsctl proc list | awk -v n="$1" '$2 == n { print $4 }'
}

proc_pid() {
	netnsctl proc list | awk -v n="$1" '$2 == n { print $5 }'
}

note "units installed in $unitdir"

# --- Files applied by systemd at boot. ---
check "sysusers: group netnsd exists" getent group netnsd
is "tmpfiles: /run/netns 0755 root" "755 root" "$(stat -c '%a %U' /run/netns)"
is "tmpfiles: /etc/netns 0755 root" "755 root" "$(stat -c '%a %U' /etc/netns)"
is "state directory 0700" "700" "$(stat -c '%a' /var/lib/netnsd)"
is "socket file 0660 root:netnsd" "660 root netnsd" "$(stat -c '%a %U %G' $sock)"

# The guest has no man(1) to look Documentation= up with: the pages are
# checked to be installed instead.
v=$(systemd-analyze verify --man=no "$unitdir/netnsd.service" "$unitdir/netnsd.socket" 2>&1)
if [ -z "$v" ]; then pass "systemd-analyze verify is clean"; else fail "systemd-analyze verify is clean" "$v"; fi
for page in $(sed -n 's/^Documentation=//p' "$unitdir/netnsd.service" "$unitdir/netnsd.socket" |
	tr ' ' '\n' | sed -n 's/^man:\(.*\)(\([0-9]\))$/\1.\2/p' | sort -u); do
	check "Documentation= man page $page is installed" \
		sh -c "ls /usr/local/share/man/man*/$page /usr/share/man/man*/$page 2>/dev/null | grep -q ."
done

# --- Enabled as shipped; started at boot, ready only when it said so. ---
is "netnsd.socket enabled" enabled "$(systemctl is-enabled netnsd.socket)"
is "netnsd.service enabled" enabled "$(systemctl is-enabled netnsd.service)"
is "netnsd.socket listening" active "$(systemctl is-active netnsd.socket)"
is "Type=notify" notify "$(prop netnsd.service Type)"
is "KillMode=process as shipped" process "$(prop netnsd.service KillMode)"

# --- Socket activation: the service stopped, the socket stays, a client starts it. ---
systemctl stop netnsd.service
is "stopped service leaves the socket listening" "inactive active" \
	"$(systemctl is-active netnsd.service) $(systemctl is-active netnsd.socket)"
is "only systemd holds the socket while netnsd is stopped" "systemd " "$(listeners)"
check "first connect is answered (netnsctl ping)" netnsctl ping
is "the connect started netnsd.service" active "$(systemctl is-active netnsd.service)"
is "netnsd listens on the socket systemd passed" "netnsd systemd " "$(listeners)"
check "netnsd logged its start by socket activation" \
	sh -c 'journalctl -b -u netnsd.service -o cat | grep -q "ready on .*(socket activation)"'

# Type=notify: "active" is entered when netnsd sends READY=1, after its start.
start=$(prop netnsd.service ExecMainStartTimestampMonotonic)
active=$(prop netnsd.service ActiveEnterTimestampMonotonic)
if [ "$start" -gt 0 ] && [ "$active" -ge "$start" ]; then
	pass "READY=1 made the service active (started $start, active $active)"
else
	fail "READY=1 made the service active" "start $start active $active"
fi
st=$(prop netnsd.service StatusText)
if [ -n "$st" ]; then pass "STATUS= reaches systemd: $st"; else fail "STATUS= reaches systemd"; fi
is "the watchdog is armed" 30s "$(prop netnsd.service WatchdogUSec)"

# --- Supervised processes survive systemctl restart and stop. ---
check "netns add $ns" netnsctl netns add $ns
check "proc run $ns --name sleeper" netnsctl proc run $ns --name sleeper -- sleep 100000
pid=$(proc_pid sleeper)
main1=$(prop netnsd.service MainPID)
note "sleeper pid $pid, netnsd pid $main1"
check "sleeper runs in $ns" sh -c "ip netns pids $ns | grep -qx $pid"

systemctl restart netnsd.service
main2=$(prop netnsd.service MainPID)
if [ "$main2" != "$main1" ] && [ "$main2" -gt 0 ]; then
	pass "systemctl restart started a new netnsd ($main2)"
else
	fail "systemctl restart started a new netnsd" "MainPID $main1 -> $main2"
fi
check "sleeper survived the restart" kill -0 "$pid"
is "the new netnsd adopted it as running" "running $pid" "$(proc_state sleeper) $(proc_pid sleeper)"

systemctl stop netnsd.service
is "netnsd stopped" inactive "$(systemctl is-active netnsd.service)"
check "sleeper survived the stop" kill -0 "$pid"
is "socket activation again: it is still running" "running $pid" \
	"$(proc_state sleeper) $(proc_pid sleeper)"
check "netns delete ends it" netnsctl netns delete $ns
waitfor 10 sh -c "! kill -0 $pid"
check "sleeper is gone with its namespace" sh -c "! kill -0 $pid"

# --- Exposure score, for the record. ---
sec=$(systemd-analyze security --no-pager netnsd.service 2>&1)
line=$(printf '%s\n' "$sec" | grep 'Overall exposure level')
if [ -n "$line" ]; then
	pass "systemd-analyze security: ${line#*→ }"
	printf '%s\n' "$sec" >"$VM_OUT/security.txt"
else
	fail "systemd-analyze security netnsd.service" "$sec"
fi
finish
