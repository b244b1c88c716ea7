#!/usr/bin/env bash
# debootstrap:bookworm, built once (the finished debootstrap is cached as
# a tarball under $FLEETBOOT_CACHE, so later runs take seconds): the
# manifest names the suite, the mirror of this host's apt sources and the
# packages; the initrd was made by the image's own update-initramfs and
# carries the fleetboot hook (unpacked and looked at); then the image
# boots in QEMU over NBD through that initramfs to systemd, which prints
# the userspace marker.
# timeout: 900
# shellcheck source=tests/image/lib-image.sh
. "$(dirname "$0")/lib-image.sh"
requires jq debootstrap qemu-system-x86_64 nbdkit dnsmasq

image_state_new
t0=$SECONDS
fbc image build deb --from debootstrap:bookworm >"$T/build.log" 2>&1 || { tail -n 30 "$T/build.log"; fail "debootstrap build failed"; }
echo "debootstrap:bookworm image built in $((SECONDS - t0)) s"
grep -E 'debootstrap|cached' "$T/build.log" | head -n 3
check_manifest deb 1
fbc image verify deb >/dev/null 2>&1 || fail "verify deb failed"
d=$(image_dir deb 1)
m=$d/manifest.json
assert_eq "$(json_get "$m" .suite)" bookworm "suite"
assert_eq "$(json_get "$m" .source)" debootstrap:bookworm "source"
mirror=$(json_get "$m" .mirror)
grep -rqsF "$mirror" /etc/apt/sources.list /etc/apt/sources.list.d/ || fail "mirror $mirror is not from the host's apt sources"
for p in nbd-client open-iscsi initramfs-tools systemd-sysv busybox; do
	json_get "$m" ".packages[].name" | grep -qx "$p" || fail "package $p missing from the manifest"
done
kv=$(json_get "$m" .kernel_version)
case $kv in *-cloud-amd64) ;; *) fail "kernel $kv is not the cloud flavour" ;; esac
json_get "$m" ".packages[].name" | grep -qx "linux-image-$kv" || fail "linux-image-$kv not in the package list"

# The initrd: unpack it and look for the hook's work.
mkdir -p "$T/initrd"
case $(head -c 4 "$d/initrd.img" | od -An -tx1 | tr -d ' ') in
1f8b*) unpack=(zcat) ;;
28b52ffd) unpack=(zstd -dc) ;;
fd377a58) unpack=(xzcat) ;;
*) unpack=(cat) ;;
esac
(cd "$T/initrd" && "${unpack[@]}" <"$d/initrd.img" | cpio -idm --quiet 2>/dev/null) || fail "cannot unpack the initrd"
find "$T/initrd" | sed "s|^$T/initrd/||" >"$T/initrd.list"
for f in scripts/fleetboot scripts/init-premount/fleetboot '(usr/)?lib/fleetboot/fleetboot-cmdline.sh' \
	'(usr/)?lib/fleetboot/fleetboot-lib.sh' '(usr/)?s?bin/nbd-client' '(usr/)?s?bin/iscsistart' '.*/nbd\.ko' '.*/overlay\.ko'; do
	grep -Eqx "$f" "$T/initrd.list" || fail "initrd lacks $f"
done
grep -q fleetboot "$T/initrd/scripts/init-premount/ORDER" || fail "init-premount/ORDER does not run the fleetboot script"
[ -d "$T/initrd/usr/lib/modules/$kv" ] || [ -d "$T/initrd/lib/modules/$kv" ] || fail "initrd modules are not for $kv"
# In the root: the hook, the userspace reporter, no machine-id of its own.
dbg() { debugfs -R "$1" "$d/rootfs.img" 2>/dev/null; }
dbg 'stat /usr/share/initramfs-tools/hooks/fleetboot' | grep -q '^Inode' || fail "root lacks the hook"
dbg 'stat /etc/systemd/system/multi-user.target.wants/fleetboot-userspace.service' | grep -q '^Inode' ||
	fail "fleetboot-userspace.service not enabled"
assert_eq "$(dbg 'cat /etc/machine-id')" "" "the image carries a machine-id"

# Boot it: DHCP by klibc ipconfig, NBD root, systemd, marker.
cp --sparse=always "$d/rootfs.img" "$T/disk.img"
ns=$(netns_new deb)
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev tap0
ip -n "$ns" link set tap0 up
mid=52-54-00-aa-bb-01
sec=00112233445566778899aabbccddeeff
ip netns exec "$ns" dnsmasq --conf-file=/dev/null --pid-file="$T/dnsmasq.pid" --port=0 \
	--interface=tap0 --bind-interfaces --dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,1h \
	--dhcp-leasefile="$T/leases" || fail "dnsmasq did not start"
kill_at_exit "$T/dnsmasq.pid"
ip netns exec "$ns" nbdkit --pidfile="$T/nbd.pid" -i 10.79.0.1 -p 10809 file "$T/disk.img" || fail "nbdkit did not start"
kill_at_exit "$T/nbd.pid"
# The boot credential (nothing secret is on the kernel command line): a
# small listener hands it out, as bootd does, and takes stage reports.
cat >"$T/cred.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (sys.argv[1] + "\n").encode()
        self.send_response(200 if self.path.endswith("/credential") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("10.79.0.1", 8067), H).serve_forever()
PY
ip netns exec "$ns" python3 "$T/cred.py" "$sec" &
echo $! >"$T/http.pid"
kill_at_exit "$T/http.pid"
kill_at_exit "$T/qemu.pid"
t0=$SECONDS
timeout 300 ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 768 -nographic -no-reboot -pidfile "$T/qemu.pid" \
	-kernel "$d/vmlinuz" -initrd "$d/initrd.img" \
	-append "console=ttyS0 panic=-1 ip=dhcp fleetboot.server=10.79.0.1 fleetboot.machine=$mid fleetboot.mode=persistent fleetboot.root=nbd:10.79.0.1:10809 fleetboot.report=http://10.79.0.1:8067/boot/$mid/stage" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:01 >"$T/serial.log" 2>&1 </dev/null &
qpid=$!
wait_for 280 grep -q "FLEETBOOT-USERSPACE-OK machine=$mid" "$T/serial.log"
ok=$?
cp "$T/serial.log" "$FB_ARTIFACTS/logs/image-debootstrap-serial.log" 2>/dev/null
[ -f "$T/qemu.pid" ] && kill "$(cat "$T/qemu.pid")" 2>/dev/null
wait "$qpid" 2>/dev/null
[ $ok = 0 ] || { grep -a -E 'fleetboot|FLEETBOOT|Kernel panic|ALERT' "$T/serial.log" | tail -n 20; fail "the Debian image did not reach userspace"; }
echo "Debian image reached userspace over NBD in $((SECONDS - t0)) s"
grep -a -q "fleetboot: root attached: /dev/nbd0" "$T/serial.log" || fail "no root-attached line from the initramfs-tools script"
echo "ok: debootstrap:bookworm built, initrd carries the hook, boots over NBD to systemd"
