#!/bin/sh
# A true reboot of the systemd guest.  Phase 0 builds the README's seed lab
# (two CORE nodes on a host bridge) and a web service (proc run --restart
# always) through netnsctl, installs a probe unit ordered After=netnsd.service
# (so systemd starts it only once netnsd has sent READY=1), and asks the
# runner for `systemctl reboot` (exit 100).  Phase 1, on a fresh kernel with
# an empty /run: what the probe saw at READY=1 is the whole lab, and ping and
# the service work again.
. "$(dirname "$0")/tap.sh"

mark=/var/lib/netnsd-vm-reboot
probe=/run/netnsd-vm-probe

here=$(cd "$(dirname "$0")" && pwd)
lab_view() { sh "$here/lab_view.sh"; }

expected_view() {
	echo "netns: n1 n2 "
	echo "bridge: n1.0.1 n2.0.1 "
	echo "n1: UP 10.0.0.1/24"
	echo "n2: UP 10.0.0.2/24"
}

http_ok() { # from n1, the web service in n2 answers
	ip netns exec n1 python3 -c 'import urllib.request as u; u.urlopen("http://10.0.0.2:8080/", timeout=3).read()'
}

case "${VM_PHASE:-0}" in
0)
	check "netns add n1" netnsctl netns add n1
	check "netns add n2" netnsctl netns add n2
	check "bridge b.1.1" netnsctl link add b.1.1 type bridge up
	check "n1 eth0 on the bridge" netnsctl -n n1 link add eth0 type veth up peer n1.0.1 netns host master b.1.1 up
	check "n2 eth0 on the bridge" netnsctl -n n2 link add eth0 type veth up peer n2.0.1 netns host master b.1.1 up
	check "n1 address" netnsctl -n n1 addr add 10.0.0.1/24 dev eth0
	check "n2 address" netnsctl -n n2 addr add 10.0.0.2/24 dev eth0
	check "web service in n2" netnsctl proc run n2 --name web --restart always -- \
		python3 -m http.server --bind 10.0.0.2 8080
	check "ping n1 -> n2" ip netns exec n1 ping -c1 -W5 10.0.0.2
	waitfor 30 http_ok
	check "the web service answers from n1" http_ok
	is_view=$(lab_view)
	if [ "$is_view" = "$(expected_view)" ]; then pass "the lab as built"; else
		fail "the lab as built" "$is_view"; fi

	# The probe runs at boot, before the runner mounts the host's shares:
	# its script is on the guest's disk.
	cp "$here/lab_view.sh" /var/lib/netnsd-vm-lab-view.sh
	cat >/etc/systemd/system/netnsd-vm-probe.service <<-EOF
	# Records the lab the moment netnsd.service is active (READY=1).
	[Unit]
	Wants=netnsd.service
	After=netnsd.service
	[Service]
	Type=oneshot
	ExecStart=/bin/sh -c 'sh /var/lib/netnsd-vm-lab-view.sh >$probe 2>&1'
	[Install]
	WantedBy=multi-user.target
	EOF
	check "probe unit enabled" systemctl enable -q netnsd-vm-probe.service
	cat /proc/sys/kernel/random/boot_id >$mark
	sync
	exit 100
	;;
1)
	if [ "$(cat /proc/sys/kernel/random/boot_id)" != "$(cat $mark 2>/dev/null)" ]; then
		pass "a new boot"
	else
		fail "a new boot" "same boot_id"
	fi
	got=$(cat $probe 2>&1)
	if [ "$got" = "$(expected_view)" ]; then
		pass "the whole lab was there when netnsd became ready"
	else
		fail "the whole lab was there when netnsd became ready" "$got"
	fi
	is_view=$(lab_view)
	if [ "$is_view" = "$(expected_view)" ]; then pass "the lab after boot"; else
		fail "the lab after boot" "$is_view"; fi
	check "ping n1 -> n2 after the reboot" ip netns exec n1 ping -c1 -W5 10.0.0.2
	check "ping n2 -> n1 after the reboot" ip netns exec n2 ping -c1 -W5 10.0.0.1
	waitfor 30 http_ok
	check "the web service answers again" http_ok
	check "netnsd lists it as running" sh -c 'netnsctl proc list | grep -Eq " web +n2 +running "'
	note "$(netnsctl info 2>&1 | grep -iE 'restor|uptime' )"
	systemctl disable -q netnsd-vm-probe.service
	finish
	;;
esac
