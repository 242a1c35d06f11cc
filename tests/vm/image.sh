#!/bin/sh
# tests/vm/image.sh DEST: build the guest that tests/vm/run.sh boots, from
# Debian packages only, into the new directory DEST:
#
#   DEST/vmlinuz      Debian's stock kernel (the package linux-image-amd64 points at)
#   DEST/initrd.img   busybox (busybox-static) as /init, the modules that mount
#                     the root disk and the 9p shares; tests/vm/init is the script
#   DEST/root/        debootstrap --variant=minbase of the host's suite plus
#                     systemd, iproute2, python3, the runtime libraries and the
#                     kernel's modules (depmod run), set up to boot without udev
#   DEST/rootfs.img   DEST/root as an ext4 image (mkfs.ext4 -d, no loop mount)
#   DEST/KERNEL       the kernel release
#
# The archive is the one apt on this host uses (read from its sources, never
# named here), the suite is this host's (VERSION_CODENAME).  Needs root,
# debootstrap, cpio, e2fsprogs.  Takes about two minutes, most of it debootstrap.
set -eu

dest=$1
here=$(cd "$(dirname "$0")" && pwd)

# Packages of the guest on top of minbase.  The runtime libraries are named
# so that a netnsd built on the host runs in the guest unchanged.
GUEST_PACKAGES="systemd systemd-sysv kmod iproute2 iputils-ping procps passwd python3
libuv1 libjansson4 libmnl0 libsystemd0"

# Modules the initramfs loads itself; everything else is loaded from the root
# disk by the kernel (kmod's modprobe) when a test needs it.
INITRD_MODULES="virtio_pci virtio_blk virtio_rng ext4 crc32c_generic 9p 9pnet_virtio"

# Drivers no test uses: left out of the image to keep it small.
PRUNE_MODULES="drivers/gpu drivers/media drivers/infiniband drivers/staging drivers/net/wireless
drivers/net/ethernet drivers/scsi drivers/isdn drivers/iio drivers/hid drivers/input
drivers/usb drivers/bluetooth net/bluetooth net/mac80211 net/wireless sound"

die() { echo "image.sh: $*" >&2; exit 1; }

# The first plain Debian archive apt uses for this suite, from the one-line
# sources.list format or deb822 .sources files.
mirror() {
	suite=$1
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$suite" '$1 == "deb" {
			i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++
			if ($2 ~ /^\[/) i++
			if ($(i + 1) == s) { print $i; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$suite" '
			/^[ \t]*$/ { if (u != "" && ok && deb) { print u; exit } u = ""; ok = 0; deb = 0; next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			/^URIs:/ { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (u != "" && ok && deb) print u }' "$f"
	done
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap)"
[ ! -e "$dest" ] || die "$dest exists"
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
url=$(mirror "$suite" | head -1)
[ -n "$url" ] || die "no 'deb' source for $suite in /etc/apt"

mkdir -p "$dest"
work=$dest/work
mkdir -p "$work/debs"
chmod 755 "$work/debs"

# The stock kernel: the release linux-image-amd64 depends on today.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || die "apt does not know linux-image-amd64 (apt-get update?)"
kver=${kpkg#linux-image-}
(cd "$work/debs" && apt-get download -q "$kpkg" busybox-static >/dev/null 2>&1) ||
	die "apt-get download $kpkg busybox-static failed"

echo "image.sh: debootstrap $suite from $url" >&2
include=$(echo $GUEST_PACKAGES | tr ' ' ,)
debootstrap --variant=minbase --include="$include" "$suite" "$dest/root" "$url" \
	>"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
root=$dest/root

# Kernel and modules from the package, without its maintainer scripts
# (no initramfs-tools: the initramfs is ours).
dpkg-deb -x "$work/debs/${kpkg}_"*.deb "$work/kernel"
cp "$work/kernel/boot/vmlinuz-$kver" "$dest/vmlinuz"
mkdir -p "$root/lib/modules"
mv "$work/kernel/lib/modules/$kver" "$root/lib/modules/"
for p in $PRUNE_MODULES; do
	rm -rf "$root/lib/modules/$kver/kernel/$p"
done
chroot "$root" depmod "$kver"
echo "$kver" >"$dest/KERNEL"

# Boot without udev, logind (no D-Bus) and gettys: the disk is mounted by the
# initramfs and nothing waits for device units.  Timers that would start
# apt or fstrim in the middle of a test are off.
for u in getty.target getty@.service serial-getty@.service console-getty.service \
	systemd-logind.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer \
	systemd-pstore.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
echo netnsd-vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 netnsd-vm\n::1 localhost\n' >"$root/etc/hosts"
printf '# The root file system is mounted by the initramfs (tests/vm/init).\n' >"$root/etc/fstab"
# A machine id, so that the first boot is not a "first boot" (no
# systemd-firstboot prompts, no preset-all undoing what run.sh enabled).
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
echo >>"$root/etc/machine-id"
mkdir -p "$root/vm/out"
cp "$here/netnsd-vm-runner.service" "$root/etc/systemd/system/"
ln -s ../netnsd-vm-runner.service "$root/etc/systemd/system/multi-user.target.wants/"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages

# The initramfs: busybox, /init, and the modules in dependency order.
ird=$work/initrd
mkdir -p "$ird/bin" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/newroot" "$ird/modules"
dpkg-deb -x "$work/debs/busybox-static_"*.deb "$work/busybox"
cp "$work/busybox/bin/busybox" "$ird/bin/busybox"
cp "$here/init" "$ird/init"
chmod 755 "$ird/init"
moddir=$root/lib/modules/$kver
for m in $INITRD_MODULES; do
	# modules.dep lines are "path: dep dep ..."; the deepest dependency comes last.
	awk -v m="$m" -F': *' '{
		n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n)
		if (n != m) next
		c = split($2, d, " "); for (i = c; i >= 1; i--) print d[i]
		print $1; exit }' "$moddir/modules.dep"
done | awk '!seen[$0]++' >"$work/initrd.list"
[ -s "$work/initrd.list" ] || die "no initramfs modules found"
while read -r p; do
	cp "$moddir/$p" "$ird/modules/"
	basename "$p" >>"$ird/modules/order"
done <"$work/initrd.list"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$dest/initrd.img"

mkfs.ext4 -q -F -L netnsd-vm -d "$root" "$dest/rootfs.img" 2G
rm -rf "$work"
echo "image.sh: kernel $kver, $(du -sh "$dest/rootfs.img" | cut -f1) root image" >&2
