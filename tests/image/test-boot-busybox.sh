#!/usr/bin/env bash
# Boot the busybox image in QEMU (TCG) with -kernel/-initrd and its root
# over NBD from nbdkit's file plugin, all inside a network namespace with
# dnsmasq for DHCP and a small HTTP listener for stage reports:
#  1. persistent: the initramfs gets a lease, attaches the root, reports
#     root-attached, switches root; userspace prints its marker, reports
#     userspace, writes a file (fleetboot.test) and powers off;
#  2. readonly: the server exports read-only; the file of boot 1 is there,
#     a write lands in the RAM overlay, the image file is unchanged;
#  3. a malformed fleetboot.root: the cause is printed on the console;
#  4. install: the image is copied to the VM's own virtio disk with
#     progress, made bootable (MBR + extlinux), and the VM reboots;
#  5. the VM then boots from that disk with no network at all, and the
#     file written in boot 1 is there;
#  6. the same image as an iSCSI root: tgt with CHAP (user MACID,
#     password: the boot's credential), iscsistart in the initramfs.
# The HTTP listener also hands out the boot's credential (GET
# /boot/MACID/credential): nothing secret is on the kernel command line.
# timeout: 400
# shellcheck source=tests/image/lib-image.sh
. "$(dirname "$0")/lib-image.sh"
requires qemu-system-x86_64 nbdkit dnsmasq python3 jq tgtd tgtadm

image_state_new
fbc image build bb --from busybox >"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "busybox build failed"; }
d=$(image_dir bb 1)
cp --sparse=always "$d/rootfs.img" "$T/disk.img"

ns=$(netns_new boot)
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.77.0.1/24 dev tap0
ip -n "$ns" link set tap0 up

mac=52:54:00:12:34:56
mid=52-54-00-12-34-56
cred=0123456789abcdef0123456789abcdef
ip netns exec "$ns" dnsmasq --conf-file=/dev/null --pid-file="$T/dnsmasq.pid" --port=0 \
	--interface=tap0 --bind-interfaces --dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,1h \
	--dhcp-host="$mac,10.77.0.55,bbhost" --dhcp-leasefile="$T/leases" --log-facility="$T/dnsmasq.log" ||
	fail "dnsmasq did not start"
kill_at_exit "$T/dnsmasq.pid"

# Stage reports: record "METHOD PATH" per request (and whether it carried
# the credential); GET .../credential hands out the boot's credential.
cat >"$T/report.py" <<'PY'
import http.server, sys
log = open(sys.argv[1], "a", buffering=1)
cred = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        with_cred = self.headers.get("X-Fleetboot-Credential") == cred
        log.write("POST %s%s\n" % (self.path, " (credential)" if with_cred else ""))
        self.send_response(204)
        self.end_headers()
    def do_GET(self):
        log.write("GET %s\n" % self.path)
        if not self.path.endswith("/credential"):
            self.send_response(404)
            self.end_headers()
            return
        body = (cred + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("10.77.0.1", 8067), H).serve_forever()
PY
ip netns exec "$ns" python3 "$T/report.py" "$T/reports" "$cred" &
echo $! >"$T/http.pid"
kill_at_exit "$T/http.pid"

start_nbd() { # extra nbdkit args...
	if [ -f "$T/nbd.pid" ]; then
		local pid
		pid=$(cat "$T/nbd.pid")
		kill "$pid" 2>/dev/null
		# A powered-off guest never closes its connection; nbdkit waits
		# for it, so do not wait long.
		wait_for 3 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
		wait_for 5 sh -c "! kill -0 $pid" || fail "nbdkit $pid did not stop"
	fi
	rm -f "$T/nbd.pid"
	ip netns exec "$ns" nbdkit --pidfile="$T/nbd.pid" -i 10.77.0.1 -p 10809 "$@" file "$T/disk.img" ||
		fail "nbdkit did not start"
	wait_for 5 test -s "$T/nbd.pid" || fail "nbdkit has no pid file"
}
kill_at_exit "$T/nbd.pid"
kill_at_exit "$T/qemu.pid"

boot() { # LOG CMDLINE...
	local log=$1
	shift
	rm -f "$T/qemu.pid"
	timeout 120 ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 384 -nographic -no-reboot \
		-pidfile "$T/qemu.pid" "${extra[@]}" \
		-kernel "$d/vmlinuz" -initrd "$d/initrd.img" \
		-append "console=ttyS0 panic=-1 ip=dhcp fleetboot.server=10.77.0.1 fleetboot.machine=$mid $*" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=$mac >"$log" 2>&1 </dev/null
	echo "exit $?" >>"$log"
}
extra=()
common="fleetboot.report=http://10.77.0.1:8067/boot/$mid/stage"
root="fleetboot.root=nbd:10.77.0.1:10809"

# 1. persistent
start_nbd
t0=$SECONDS
boot "$T/boot1.log" "fleetboot.mode=persistent $root $common fleetboot.test=write:/var/fbtest:hello-$$ fleetboot.test=poweroff"
echo "boot 1 took $((SECONDS - t0)) s"
cp "$T/boot1.log" "$FB_ARTIFACTS/logs/image-boot1-serial.log" 2>/dev/null
grep -q "FLEETBOOT-USERSPACE-OK machine=$mid mode=persistent host=bbhost" "$T/boot1.log" ||
	{ tail -n 40 "$T/boot1.log"; fail "boot 1: no userspace marker (with the DHCP hostname)"; }
grep -q "FLEETBOOT-TEST write /var/fbtest ok" "$T/boot1.log" || fail "boot 1: test write failed"
grep -q "FLEETBOOT-TEST poweroff" "$T/boot1.log" || fail "boot 1: did not power off"
grep -q "GET /boot/$mid/credential" "$T/reports" || fail "the initramfs did not fetch its credential"
grep -q "POST /boot/$mid/stage?name=root-attached" "$T/reports" || fail "no root-attached report"
grep -q "$cred" "$T/boot1.log" && fail "boot 1: the credential was printed on the console"
grep -q "POST /boot/$mid/stage?name=userspace" "$T/reports" || fail "no userspace report"
# The write reached the server's disk, and the machine got its own id.
debugfs -R 'cat /var/fbtest' "$T/disk.img" 2>/dev/null | grep -qx "hello-$$" || fail "write did not reach the NBD disk"
want_id=$(printf 'fleetboot-machine-id:%s' "$mid" | md5sum | cut -d' ' -f1)
got_id=$(debugfs -R 'cat /etc/machine-id' "$T/disk.img" 2>/dev/null)
assert_eq "$got_id" "$want_id" "machine-id derived from the machine id"

# 2. readonly: nbdkit serves read-only; writes go to the tmpfs overlay.
sum_before=$(sha256sum <"$T/disk.img")
start_nbd -r
boot "$T/boot2.log" "fleetboot.mode=readonly $root $common fleetboot.test=check:/var/fbtest:hello-$$ fleetboot.test=write:/var/ro:x fleetboot.test=check:/var/ro:x fleetboot.test=poweroff"
cp "$T/boot2.log" "$FB_ARTIFACTS/logs/image-boot2-serial.log" 2>/dev/null
grep -q "FLEETBOOT-USERSPACE-OK machine=$mid mode=readonly" "$T/boot2.log" ||
	{ tail -n 40 "$T/boot2.log"; fail "boot 2: no userspace marker"; }
grep -q "FLEETBOOT-TEST check /var/fbtest ok" "$T/boot2.log" || fail "boot 2: the file of boot 1 is missing"
grep -q "FLEETBOOT-TEST check /var/ro ok" "$T/boot2.log" || fail "boot 2: write to the RAM overlay failed"
assert_eq "$(sha256sum <"$T/disk.img")" "$sum_before" "readonly boot changed the image"

# 3. malformed command line: a clear cause on the console, then rescue.
boot "$T/boot3.log" "fleetboot.root=nbd:10.77.0.1:99999 fleetboot.rescue_timeout=0" &
bpid=$!
wait_for 60 grep -q "FLEETBOOT-BOOT-FAILED" "$T/boot3.log"
[ -f "$T/qemu.pid" ] && kill "$(cat "$T/qemu.pid")" 2>/dev/null
wait "$bpid" 2>/dev/null
grep -q "FLEETBOOT-BOOT-FAILED: bad kernel command line: fleetboot.root: bad port '99999'" "$T/boot3.log" ||
	{ tail -n 20 "$T/boot3.log"; fail "boot 3: no clear cause"; }
# 4. install mode onto a blank local disk
truncate -s 256M "$T/local.img"
extra=(-drive "file=$T/local.img,format=raw,if=virtio")
start_nbd -r
t0=$SECONDS
boot "$T/boot4.log" "fleetboot.mode=install $root $common fleetboot.test=check:/var/fbtest:hello-$$ fleetboot.test=poweroff"
cp "$T/boot4.log" "$FB_ARTIFACTS/logs/image-boot4-serial.log" 2>/dev/null
grep -q "install: 100%" "$T/boot4.log" || { tail -n 30 "$T/boot4.log"; fail "boot 4: install did not complete"; }
grep -q "install: 50%" "$T/boot4.log" || fail "boot 4: no install progress"
grep -q "install: done" "$T/boot4.log" || { tail -n 30 "$T/boot4.log"; fail "boot 4: install failed"; }
grep -q "POST /boot/$mid/stage?name=installed" "$T/reports" || fail "no installed report"
echo "install took $((SECONDS - t0)) s"
sfdisk -d "$T/local.img" 2>/dev/null | grep -q 'start= *2048.*type=83, bootable' || fail "boot 4: no bootable partition written"

# 5. boot from the local disk, network cable pulled (no NIC at all)
extra=(-drive "file=$T/local.img,format=raw,if=virtio" -nic none)
rm -f "$T/qemu.pid"
timeout 150 qemu-system-x86_64 -accel tcg -m 384 -nographic -no-reboot -pidfile "$T/qemu.pid" \
	"${extra[@]}" >"$T/boot5.log" 2>&1 </dev/null
cp "$T/boot5.log" "$FB_ARTIFACTS/logs/image-boot5-serial.log" 2>/dev/null
grep -q "FLEETBOOT-USERSPACE-OK machine=$mid mode=local" "$T/boot5.log" ||
	{ tail -n 30 "$T/boot5.log"; fail "boot 5: the installed disk did not boot"; }
grep -q "FLEETBOOT-TEST check /var/fbtest ok" "$T/boot5.log" || fail "boot 5: the installed root lacks the file of boot 1"
# 6. iSCSI root (LUN 1: tgt's LUN 0 is its controller)
port=$((20000 + $$ % 10000))
ip netns exec "$ns" tgtd -f -C "$port" --iscsi portal=10.77.0.1:3260 >"$T/tgtd.log" 2>&1 &
echo $! >"$T/tgtd.pid"
kill_at_exit "$T/tgtd.pid"
tgt() { ip netns exec "$ns" tgtadm -C "$port" --lld iscsi "$@"; }
wait_for 10 tgt --op show --mode target || fail "tgtd did not start"
iqn=iqn.2026-11.org.fleetboot:$mid
tgt --op new --mode target --tid 1 -T "$iqn"
tgt --op new --mode logicalunit --tid 1 --lun 1 -b "$T/disk.img"
tgt --op bind --mode target --tid 1 -I ALL
tgt --op new --mode account --user "$mid" --password "$cred"
tgt --op bind --mode account --tid 1 --user "$mid"
extra=()
boot "$T/boot6.log" "fleetboot.mode=persistent fleetboot.root=iscsi:10.77.0.1:3260:$iqn:1 $common fleetboot.test=check:/var/fbtest:hello-$$ fleetboot.test=poweroff"
cp "$T/boot6.log" "$FB_ARTIFACTS/logs/image-boot6-serial.log" 2>/dev/null
grep -q "FLEETBOOT-USERSPACE-OK machine=$mid mode=persistent" "$T/boot6.log" ||
	{ grep -a fleetboot "$T/boot6.log" | tail -n 20; fail "boot 6: no userspace over iSCSI"; }
grep -q "FLEETBOOT-TEST check /var/fbtest ok" "$T/boot6.log" || fail "boot 6: iSCSI root lacks the file of boot 1"
echo "ok: busybox image booted over NBD (persistent, readonly, install, then from disk) and iSCSI, and failed clearly on bad input"
