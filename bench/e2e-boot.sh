#!/usr/bin/env bash
# bench/e2e-boot.sh - seconds from QEMU start to the userspace marker for
# the busybox image: fleetboot (bootd + storaged + web under `fleetboot
# up`) against a peer stack of dnsmasq (DHCP), a plain HTTP server
# (python3 -m http.server: script, kernel, initrd) and nbdkit's file plugin
# with its cow filter, on the same kernel, initramfs and root image, in the
# same run. BIOS clients (QEMU's iPXE ROM), software emulation.
#
#   FB_BENCH_BOOTS=3 bash bench/e2e-boot.sh
set -u
. "$(dirname "$0")/../tests/lib.sh"
. "$(dirname "$0")/../tests/e2e/lab.sh"
requires dnsmasq nbdkit python3
BOOTS=${FB_BENCH_BOOTS:-2}
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
lab_image tiny "console=ttyS0 fleetboot.test=poweroff"
img=$(fb image show tiny --json | sed -n 's/.*"dir": "\(.*\)".*/\1/p')
MAC=52:54:00:be:00:01
fb machine add $MAC --image tiny --mode ephemeral >/dev/null || fail "machine add"
secret=$(fb machine show $MAC --json | sed -n 's/.*"secret": "\(.*\)".*/\1/p')
id=$(echo $MAC | tr : -)

# time_boot NAME: seconds to the marker (the client powers off right after).
time_boot() {
	local log=$LAB_DIR/$1.serial t0
	rm -f "$log"
	t0=$(date +%s.%N)
	lab_qemu "$1" $MAC tap0 "$log" bios
	lab_wait_serial "$log" FLEETBOOT-USERSPACE-OK 300 || {
		echo "timeout" >&2
		echo 0
		return
	}
	echo "$(date +%s.%N) - $t0" | bc
	local pid
	pid=$(cat "$LAB_DIR/$1.pid")
	wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid"
}

# fleetboot.
lab_up "$CONF" "$LAB_DIR/up.log"
fb_times=()
for i in $(seq 1 "$BOOTS"); do fb_times+=("$(time_boot "fb$i")"); done
kill -TERM "$(cat "$LAB_DIR/up.pid")"
wait_for 15 sh -c "! kill -0 $(cat "$LAB_DIR/up.pid") 2>/dev/null"
port_closed() { ! lab_port_open "$1"; }
for port in 8067 10809; do
	wait_for 15 port_closed $port || fail "port $port still open after fleetboot up stopped"
done

# The peer stack on the same files.
www=$LAB_DIR/www
mkdir -p "$www"
ln -s "$img/vmlinuz" "$www/vmlinuz"
ln -s "$img/initrd.img" "$www/initrd.img"
# The initramfs fetches its boot credential beside the report URL (the
# peer's nbdkit ignores the export name).
mkdir -p "$www/boot/$id"
echo "$secret" >"$www/boot/$id/credential"
cmd="ip=dhcp fleetboot.server=$LAB_SERVER fleetboot.machine=$id fleetboot.mode=ephemeral"
cmd="$cmd fleetboot.root=nbd:$LAB_SERVER:10809 fleetboot.report=http://$LAB_SERVER:8067/boot/$id/stage"
cmd="$cmd console=ttyS0 console=tty0 console=ttyS0 fleetboot.test=poweroff"
printf '#!ipxe\nkernel http://%s:8067/vmlinuz initrd=initrd.img %s\ninitrd --name initrd.img http://%s:8067/initrd.img\nboot\n' \
	"$LAB_SERVER" "$cmd" "$LAB_SERVER" >"$www/boot.ipxe"
ip netns exec "$LAB_NS" dnsmasq --no-daemon --port=0 --interface=br0 --bind-interfaces \
	--dhcp-range=10.66.0.100,10.66.0.150 --no-ping --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
	--dhcp-userclass=set:ipxe,iPXE --dhcp-boot=tag:ipxe,"http://$LAB_SERVER:8067/boot.ipxe" \
	>"$LAB_DIR/dnsmasq.log" 2>&1 &
echo $! >"$LAB_DIR/dnsmasq.pid"
cleanup "kill \$(cat '$LAB_DIR/dnsmasq.pid') 2>/dev/null"
(cd "$www" && exec ip netns exec "$LAB_NS" python3 -m http.server 8067 --bind "$LAB_SERVER") \
	>"$LAB_DIR/http.log" 2>&1 &
echo $! >"$LAB_DIR/http.pid"
cleanup "kill \$(cat '$LAB_DIR/http.pid') 2>/dev/null"
ip netns exec "$LAB_NS" nbdkit --foreground --exit-with-parent -i "$LAB_SERVER" -p 10809 \
	--filter=cow file "$img/rootfs.img" >"$LAB_DIR/nbdkit.log" 2>&1 &
echo $! >"$LAB_DIR/nbdkit.pid"
cleanup "kill \$(cat '$LAB_DIR/nbdkit.pid') 2>/dev/null"
wait_for 20 lab_port_open 8067 || fail "peer HTTP did not start"
wait_for 20 lab_port_open 10809 || fail "peer nbdkit did not start"
peer_times=()
for i in $(seq 1 "$BOOTS"); do peer_times+=("$(time_boot "peer$i")"); done

best() { printf '%s\n' "$@" | grep -v '^0$' | sort -n | head -n 1; }
fbb=$(best "${fb_times[@]}")
pb=$(best "${peer_times[@]}")
printf '%-44s %10s %10s %8s\n' "boot to userspace marker (best of $BOOTS)" fleetboot peer ratio
ratio=$(echo "scale=2; $pb / $fbb" | bc 2>/dev/null || echo "?")
printf '%-44s %9.1fs %9.1fs %7sx\n' "busybox image, BIOS iPXE, NBD, TCG" "$fbb" "$pb" "$ratio"
echo "(ratio = peer time / fleetboot time: above 1 means fleetboot boots faster)"
echo "all fleetboot runs: ${fb_times[*]}; all peer runs: ${peer_times[*]}"
