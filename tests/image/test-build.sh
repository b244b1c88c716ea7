#!/usr/bin/env bash
# Build busybox, dir: and tar: images into a fresh state folder: each is
# registered once, its manifest matches the files, `fleetboot image verify`
# passes, and the scratch folder is gone. Then the bad inputs: unknown
# source kind, missing kernel, a root that does not fit --size, an
# unreadable tarball, a disk with no Linux root - each a clear one-line
# error, exit 1, and nothing registered.
# timeout: 400
# shellcheck source=tests/image/lib-image.sh
. "$(dirname "$0")/lib-image.sh"
requires jq

image_state_new

# busybox
t0=$SECONDS
fbc image build bb --from busybox >"$T/bb.log" 2>&1 || { cat "$T/bb.log"; fail "busybox build failed"; }
echo "busybox image built in $((SECONDS - t0)) s"
check_manifest bb 1
fbc image verify bb >"$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "verify bb failed"; }
m=$(image_dir bb 1)/manifest.json
assert_eq "$(json_get "$m" .source)" busybox "busybox manifest source"
assert_eq "$(json_get "$m" .kernel_version | grep -c 'cloud-amd64$')" 1 "busybox kernel flavour"
[ "$(json_get "$m" .rootfs.size)" -gt "$(json_get "$m" .rootfs.content_bytes)" ] || fail "no headroom in the root"
# The root has the userspace init and the kernel for install mode.
debugfs -R 'stat /sbin/init' "$(image_dir bb 1)/rootfs.img" 2>/dev/null | grep -q 'Type: regular' ||
	fail "the busybox root has no /sbin/init"
# The builder runs with umask 077, but the image's own files keep their
# usual modes: an ordinary user of the client reads /etc/hostname.
debugfs -R 'stat /etc/hostname' "$(image_dir bb 1)/rootfs.img" 2>/dev/null | grep -q 'Mode:  0644' ||
	fail "/etc/hostname in the busybox root is not 0644: $(debugfs -R 'stat /etc/hostname' "$(image_dir bb 1)/rootfs.img" 2>/dev/null | head -n 3)"
kv=$(json_get "$m" .kernel_version)
debugfs -R "stat /boot/vmlinuz-$kv" "$(image_dir bb 1)/rootfs.img" 2>/dev/null | grep -q 'Type: regular' ||
	fail "the busybox root has no /boot/vmlinuz-$kv"
# The initrd is a cpio with the fleetboot init, nbd-client and iscsistart.
zcat "$(image_dir bb 1)/initrd.img" | cpio -t 2>/dev/null >"$T/initrd.list"
for f in init lib/fleetboot/fleetboot-cmdline.sh lib/fleetboot/fleetboot-lib.sh sbin/nbd-client sbin/iscsistart bin/udhcpc; do
	grep -qx "$f" "$T/initrd.list" || fail "busybox initrd lacks $f"
done
grep -q '/nbd.ko$' "$T/initrd.list" || fail "busybox initrd lacks nbd.ko"

# --kernel-flavor amd64: Debian's generic kernel instead of the cloud one
# (the package behind linux-image-amd64, fetched once into the shared
# cache). The busybox image makes it cheap: its kernel, modules and the
# manifest's kernel package must all be the generic flavour.
fbc image build bbgen --from busybox --kernel-flavor amd64 >"$T/bbgen.log" 2>&1 ||
	{ cat "$T/bbgen.log"; fail "busybox build with --kernel-flavor amd64 failed"; }
check_manifest bbgen 1
mg=$(image_dir bbgen 1)/manifest.json
gkv=$(json_get "$mg" .kernel_version)
case $gkv in
*-cloud-amd64) fail "--kernel-flavor amd64 built with the cloud kernel $gkv" ;;
*-amd64) ;;
*) fail "--kernel-flavor amd64: kernel $gkv is not an amd64 kernel" ;;
esac
gpkg=$(json_get "$mg" .kernel_package)
case $gpkg in
"linux-image-$gkv "?*) ;;
*) fail "--kernel-flavor amd64: the manifest's kernel package is '$gpkg', expected linux-image-$gkv" ;;
esac
debugfs -R "stat /boot/vmlinuz-$gkv" "$(image_dir bbgen 1)/rootfs.img" 2>/dev/null | grep -q 'Type: regular' ||
	fail "the amd64-flavour root has no /boot/vmlinuz-$gkv"
debugfs -R "ls -p /lib/modules" "$(image_dir bbgen 1)/rootfs.img" 2>/dev/null | grep -q "/$gkv/" ||
	fail "the amd64-flavour root has no /lib/modules/$gkv"
cmp -s "$(image_dir bbgen 1)/vmlinuz" "$(image_dir bb 1)/vmlinuz" && fail "--kernel-flavor amd64 kept the cloud kernel"
echo "--kernel-flavor amd64: kernel $gpkg"

# A root folder to build from: the busybox root, taken out of the image,
# with the cloud kernel and its modules in /boot and /lib/modules.
root=$T/root
mkdir -p "$root"
debugfs -R "rdump / $root" "$(image_dir bb 1)/rootfs.img" >/dev/null 2>&1
rm -rf "$root/lost+found"
[ -x "$root/sbin/init" ] || fail "could not unpack the busybox root"
printf 'ID=debian\nVERSION_CODENAME=testroot\n' >"$root/etc/os-release"

# dir: (kernel from /boot, initramfs made from the root's modules)
fbc image build fromdir --from "dir:$root" >"$T/dir.log" 2>&1 || { cat "$T/dir.log"; fail "dir: build failed"; }
check_manifest fromdir 1
fbc image verify fromdir >/dev/null 2>&1 || fail "verify fromdir failed"
m=$(image_dir fromdir 1)/manifest.json
assert_eq "$(json_get "$m" .source)" "dir:$root" "dir manifest source"
assert_eq "$(json_get "$m" .suite)" "debian:testroot" "dir manifest suite"
assert_eq "$(json_get "$m" .kernel_version)" "$kv" "dir kernel version"
cmp -s "$root/boot/vmlinuz-$kv" "$(image_dir fromdir 1)/vmlinuz" || fail "dir: kernel is not the root's"
debugfs -R 'cat /etc/os-release' "$(image_dir fromdir 1)/rootfs.img" 2>/dev/null | grep -q testroot ||
	fail "dir: root content missing from the image"

# tar: a gzip tarball, with --kernel/--initrd given and --size.
tar -C "$root" -czf "$T/root.tar.gz" --exclude=./boot .
fbc image build fromtar --from "tar:$T/root.tar.gz" --size 200M \
	--kernel "$(image_dir bb 1)/vmlinuz" --initrd "$(image_dir bb 1)/initrd.img" >"$T/tar.log" 2>&1 ||
	{ cat "$T/tar.log"; fail "tar: build failed"; }
check_manifest fromtar 1
fbc image verify fromtar >/dev/null 2>&1 || fail "verify fromtar failed"
assert_eq "$(stat -c %s "$(image_dir fromtar 1)/rootfs.img")" $((200 * 1048576)) "tar: --size honoured"
cmp -s "$(image_dir bb 1)/initrd.img" "$(image_dir fromtar 1)/initrd.img" || fail "tar: --initrd not used"
# Owners survive the round trip (mke2fs -d keeps what tar unpacked).
debugfs -R 'stat /sbin/init' "$(image_dir fromtar 1)/rootfs.img" 2>/dev/null | grep -q 'User: *0 *Group: *0' ||
	fail "tar: owners not kept"
no_leftovers

# An interrupted build: SIGTERM in the middle registers nothing and
# leaves no scratch behind.
"$FB_BIN/fleetboot" -c "$CONF" image build intr --from busybox >"$T/intr.log" 2>&1 &
bpid=$!
# Interrupt the builder itself (fleetboot execs it), once it is working.
wait_for 60 grep -q "assembling the busybox root" "$T/intr.log" || fail "the interrupted build never started"
sleep 1
kill -TERM "$bpid"
wait "$bpid" && fail "an interrupted build succeeded"
grep -q "interrupted; nothing registered" "$T/intr.log" || { cat "$T/intr.log"; fail "no clear message on interrupt"; }
fbc image show intr >/dev/null 2>&1 && fail "an interrupted build registered 'intr'"
wait_for 10 no_leftovers || no_leftovers

# Bad input: exit 1, one clear message, nothing registered.
count_before=$(fbc image list --json | jq length)
bad() { # WANT ARGS...
	local want=$1 rc
	shift
	fbc image build bad "$@" >"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	[ $rc = 1 ] || { cat "$T/bad.err"; fail "build $* exited $rc, expected 1"; }
	grep -q -- "$want" "$T/bad.err" || { cat "$T/bad.err"; fail "build $*: no '$want' in the error"; }
	echo "refused ($*): $(tail -n 1 "$T/bad.err")"
	no_leftovers
}
bad "unknown source 'ftp://x/y'" --from ftp://x/y
bad "unknown source 'debootstrapp:bookworm'" --from debootstrapp:bookworm
mkdir -p "$T/nokernel"
cp -a "$root/." "$T/nokernel/"
rm -rf "$T/nokernel/boot"
bad "no kernel: the root has no /boot/vmlinuz" --from "dir:$T/nokernel"
bad "--kernel /nonexistent: cannot read it" --from "dir:$T/nokernel" --kernel /nonexistent --initrd /nonexistent
bad "does not fit --size 16M" --from "dir:$root" --size 16M
bad "is not a size" --from "dir:$root" --size lots
# Root reads any file, so "unreadable" means content tar cannot read:
# random bytes, and a real tarball cut short.
head -c 4096 /dev/urandom >"$T/garbage.tar.gz"
bad "not a readable tarball" --from "tar:$T/garbage.tar.gz"
head -c 100000 "$T/root.tar.gz" >"$T/short.tar.gz"
bad "not a readable tarball" --from "tar:$T/short.tar.gz"
bad "tar:$T/missing.tar: no such file" --from "tar:$T/missing.tar"
truncate -s 64M "$T/empty.img"
bad "no Linux root in the disk" --from "disk:$T/empty.img"
bad "--kernel-flavor: 'i386' is not cloud-amd64 or amd64" --from busybox --kernel-flavor i386
bad "--initramfs: 'mkinitcpio' is not initramfs-tools or dracut" --from debootstrap:bookworm --initramfs mkinitcpio
bad "--initramfs: only debootstrap: images make their own initramfs" --from busybox --initramfs dracut
truncate -s 64M "$T/data.img"
mke2fs -q -F -t ext4 "$T/data.img"
bad "no Linux root in the disk" --from "disk:$T/data.img"
bad "disk:$T/missing.img: no such file" --from "disk:$T/missing.img"
fbc image build bad/name --from busybox 2>"$T/bad.err" && fail "bad/name accepted"
grep -q "not a valid image name" "$T/bad.err" || fail "no clear error for an invalid name"
count_after=$(fbc image list --json | jq length)
assert_eq "$count_after" "$count_before" "images registered by failed builds"
fbc image show bad >/dev/null 2>&1 && fail "a failed build registered 'bad'"
echo "ok: busybox, dir: and tar: images built and verified; bad input refused"
