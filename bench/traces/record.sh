#!/usr/bin/env bash
# bench/traces/record.sh - record the root-disk block I/O of one real boot
# of an image (busybox, or FB_TRACE_FROM: any `fleetboot image build
# --from` source, e.g. debootstrap:bookworm), as the trace the storm
# generator replays.
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
#   FB_TRACE_FROM=debootstrap:bookworm FLEETBOOT_CACHE=/work/cache/image \
#       flock /tmp/fb-heavy.lock bash bench/traces/record.sh bench/traces/debootstrap.trace
#
# The trace's second line names the source (# image: FROM): bench/storm.sh
# builds the storm's image from it, so the offsets fit the disk.
# FB_TRACE_SECS bounds the boot (default 300 s; a Debian boot under TCG
# takes several minutes).
set -u
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../../tests/e2e/lab.sh"
requires dnsmasq nbdkit python3 qemu-system-x86_64
OUT=${1:?usage: record.sh OUTPUT.trace}
FROM=${FB_TRACE_FROM:-busybox}
SECS=${FB_TRACE_SECS:-300}
case $FROM in debootstrap:*) requires debootstrap ;; esac
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
t0=$SECONDS
fb image build tiny --from "$FROM" --cmdline "console=ttyS0 fleetboot.test=poweroff" \
	>"$LAB_DIR/build.log" 2>&1 || fail "image build: $(tail -n 20 "$LAB_DIR/build.log")"
echo "image $FROM built in $((SECONDS - t0)) s"
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
t0=$SECONDS
lab_boot rec "${id//-/:}" tap0 "$LAB_DIR/rec.serial" bios "$SECS" \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$cmd"
grep -q ' Read ' "$LAB_DIR/nbd.log" || fail "nbdkit logged no reads"
echo "the client reached userspace and powered off after $((SECONDS - t0)) s"
awk -v image="$FROM" -f "$(dirname "$0")/log2trace.awk" "$LAB_DIR/nbd.log" >"$OUT" ||
	fail "trace conversion"
echo "recorded $(grep -vc '^#' "$OUT") requests into $OUT"
awk '!/^#/ { n[$1]++; b[$1] += $3 } END { for (o in n) printf "  %s %d requests, %d bytes\n", o, n[o], b[o] }' "$OUT"
