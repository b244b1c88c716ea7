#!/usr/bin/env bash
# bench/traces/record.sh - record the root-disk block I/O of one real boot
# of the busybox image, as the trace the storm generator replays.
#
# One QEMU client (TCG) boots the image's kernel and initramfs directly
# (-kernel: the PXE and HTTP stages are not what this records) inside a lab
# namespace. Its root disk is served by nbdkit's file plugin under the cow
# filter, with the log filter outermost so it logs each request as the
# client sent it; dnsmasq answers the initramfs's DHCP and a small HTTP
# server hands it the credential file it fetches. When the client has
# reached userspace and powered off, the log is turned into the trace
# (bench/traces/README.md gives its format) by log2trace.awk.
#
#   flock /tmp/fb-heavy.lock bash bench/traces/record.sh bench/traces/busybox.trace
set -u
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../../tests/e2e/lab.sh"
requires dnsmasq nbdkit python3 qemu-system-x86_64
OUT=${1:?usage: record.sh OUTPUT.trace}
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
lab_image tiny "console=ttyS0 fleetboot.test=poweroff"
img=$(fb image show tiny --json | sed -n 's/.*"dir": "\(.*\)".*/\1/p')
[ -n "$img" ] || fail "no image dir"
id=52-54-00-be-00-07

www=$LAB_DIR/www
mkdir -p "$www/boot/$id"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$www/boot/$id/credential"
ip netns exec "$LAB_NS" dnsmasq --no-daemon --port=0 --interface=br0 --bind-interfaces \
	--dhcp-range=10.66.0.100,10.66.0.150 --no-ping --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
	>"$LAB_DIR/dnsmasq.log" 2>&1 &
echo $! >"$LAB_DIR/dnsmasq.pid"
kill_at_exit "$LAB_DIR/dnsmasq.pid"
(cd "$www" && exec ip netns exec "$LAB_NS" python3 -m http.server 8067 --bind "$LAB_SERVER") \
	>"$LAB_DIR/http.log" 2>&1 &
echo $! >"$LAB_DIR/http.pid"
kill_at_exit "$LAB_DIR/http.pid"
ip netns exec "$LAB_NS" nbdkit --foreground -i "$LAB_SERVER" -p 10809 \
	--filter=log --filter=cow file "$img/rootfs.img" logfile="$LAB_DIR/nbd.log" \
	>"$LAB_DIR/nbdkit.log" 2>&1 &
echo $! >"$LAB_DIR/nbdkit.pid"
kill_at_exit "$LAB_DIR/nbdkit.pid"
wait_for 20 lab_port_open 8067 || fail "HTTP did not start"
wait_for 20 lab_port_open 10809 || fail "nbdkit did not start"

cmd="ip=dhcp fleetboot.server=$LAB_SERVER fleetboot.machine=$id fleetboot.mode=persistent"
cmd="$cmd fleetboot.root=nbd:$LAB_SERVER:10809 fleetboot.report=http://$LAB_SERVER:8067/boot/$id/stage"
cmd="$cmd console=ttyS0 fleetboot.test=poweroff"
lab_boot rec "${id//-/:}" tap0 "$LAB_DIR/rec.serial" bios 300 \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$cmd"
grep -q ' Read ' "$LAB_DIR/nbd.log" || fail "nbdkit logged no reads"
awk -f "$(dirname "$0")/log2trace.awk" "$LAB_DIR/nbd.log" >"$OUT" || fail "trace conversion"
echo "recorded $(grep -vc '^#' "$OUT") requests into $OUT"
awk '!/^#/ { n[$1]++; b[$1] += $3 } END { for (o in n) printf "  %s %d requests, %d bytes\n", o, n[o], b[o] }' "$OUT"
