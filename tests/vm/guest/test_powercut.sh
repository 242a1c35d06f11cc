#!/bin/sh
# A hard power-off right after a burst of acknowledged changes.  Phase 0
# makes namespaces, veth pairs and addresses through netnsctl as fast as it
# can, records (on the host, in $VM_OUT) each change netnsd acknowledged, and
# asks for a power cut (exit 101: the host kills qemu; no shutdown, no sync).
# Phase 1, after the next boot: every acknowledged change is there.
. "$(dirname "$0")/tap.sh"

acked=$VM_OUT/powercut.acked
n=${VM_POWERCUT_N:-12}

case "${VM_PHASE:-0}" in
0)
	: >"$acked"
	i=1
	while [ "$i" -le "$n" ]; do
		netnsctl netns add pc$i >/dev/null &&
			netnsctl -n pc$i link add a$i type veth up peer b$i up >/dev/null &&
			netnsctl -n pc$i addr add 10.9.$i.1/24 dev a$i >/dev/null &&
			echo "pc$i a$i b$i 10.9.$i.1/24" >>"$acked"
		i=$((i + 1))
	done
	if [ "$(wc -l <"$acked")" -eq "$n" ]; then
		pass "$n namespaces with a veth and an address acknowledged"
	else
		fail "every change of the burst acknowledged" "$(cat "$acked")"
	fi
	exit 101
	;;
1)
	lost=
	while read -r ns a b cidr; do
		ip netns list | grep -q "^$ns\( \|$\)" || { lost="$lost $ns"; continue; }
		ip -n "$ns" -br link show dev "$b" >/dev/null 2>&1 || lost="$lost $ns/$b"
		ip -n "$ns" -4 -br addr show dev "$a" | grep -qF "$cidr" || lost="$lost $ns/$a/$cidr"
	done <"$acked"
	if [ -z "$lost" ] && [ -s "$acked" ]; then
		pass "nothing acknowledged was lost ($(wc -l <"$acked") namespaces with links and addresses)"
	else
		fail "nothing acknowledged was lost" "lost:$lost"
	fi
	check "a restored veth is up" sh -c 'ip -n pc1 -br link show dev a1 | grep -qw UP'
	check "netnsd answers" netnsctl info
	finish
	;;
esac
