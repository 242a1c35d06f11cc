#!/bin/sh
# The README's seed lab (n1 and n2 on bridge b.1.1) as the kernel shows it,
# one line per fact; used by test_reboot.sh, also from a unit at boot.
echo "netns: $(ip netns list | awk '$1 ~ /^n[12]$/ { print $1 }' | sort | tr '\n' ' ')"
echo "bridge: $(ip -br link show master b.1.1 2>/dev/null | awk '{ sub(/@.*/, "", $1); print $1 }' | sort | tr '\n' ' ')"
for n in n1 n2; do
	echo "$n: $(ip -n $n -4 -br addr show dev eth0 2>/dev/null | awk '{ print $2, $3 }')"
done
