#!/usr/bin/env bash
# bench/storm.sh - a boot storm: N diskless machines power on at once and
# boot through fleetboot (bootd + storaged) to userspace, simulated by
# stormgen (bench/storm/) on the wire: PXE DHCP, TFTP undionly.kpxe, iPXE
# DHCP, the boot scripts, kernel and initrd over HTTP, the initramfs's
# DHCP, credential and stage reports, and the NBD root disk replaying the
# block trace of a real boot (bench/traces/busybox.trace).
#
# Two namespaces joined by a veth: the server (bs0, 10.77.0.1/16) and the
# clients, where each machine is a macvlan (private mode) on the veth with
# its own MAC, so the server's neighbour table sees N separate hosts.
# Prints the storm's figures, the server's CPU seconds and peak RSS (every
# process in the server namespace: bootd, storaged, nbdkit), and RSS per
# booted machine while all N hold their root connection.
#
#   FB_STORM_N=50 FB_STORM_LAST=userspace FB_STORM_THINK=1 bash bench/storm.sh
#
# FB_STORM_LAST=credential (or any stage stormgen names) stops the machines
# after that stage; FB_STORM_THINK scales the trace's client time (it was
# recorded under TCG: 0 replays the I/O back to back).
set -u
. "$(dirname "$0")/../tests/lib.sh"
requires_root
requires ip curl mke2fs
N=${FB_STORM_N:-50}
LAST=${FB_STORM_LAST:-userspace}
THINK=${FB_STORM_THINK:-1}
HOLD=${FB_STORM_HOLD:-3}
GEN=$(cd "$FB_BIN/.." && pwd)/bench/stormgen
TRACE=$FB_TOP/bench/traces/busybox.trace
[ -x "$GEN" ] || skip "stormgen is not built ($GEN)"
[ -x "$FB_BIN/fleetboot-bootd" ] || skip "fleetboot is not built in $FB_BIN"
{ [ "$N" -ge 1 ] && [ "$N" -le 3000 ]; } || fail "FB_STORM_N=$N: 1..3000"
export FLEETBOOT_CACHE=${FLEETBOOT_CACHE:-$FB_ARTIFACTS/cache/image}

T=$(tmpdir_new)
SRV=$(netns_new stsrv)
CLI=$(netns_new stcli)
SIP=10.77.0.1
CONF=$T/fleetboot.conf
cat >"$CONF" <<EOF
[global]
state_dir = $T/state
server_address = $SIP
[bootd]
interface = bs0
dhcp = authoritative
pool = 10.77.1.1-10.77.15.250
netmask = 255.255.0.0
router = $SIP
dns = $SIP
lease_time = 3600
http_port = 8067
unknown_machines = ignore
[storaged]
nbd_port = 10809
require_lease_ip = on
[web]
listen = 127.0.0.1:8080
EOF
export FLEETBOOT_CONF=$CONF
t_setup=$SECONDS
fb init >"$T/init.log" 2>&1 || fail "fleetboot init: $(tail -n 5 "$T/init.log")"
fb image build tiny --from busybox --cmdline "console=ttyS0" >"$T/build.log" 2>&1 ||
	fail "image build: $(tail -n 20 "$T/build.log")"
mac_of() { printf '52:54:01:%02x:%02x:%02x' $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
for i in $(seq 0 $((N - 1))); do
	fb machine add "$(mac_of "$i")" --image tiny --mode persistent >/dev/null ||
		fail "machine add $(mac_of "$i")"
done

# The network: one veth, N macvlans on its client end. arp_ignore=1 makes
# only the macvlan that holds an address answer ARP for it (all N see
# each broadcast), so the server learns each address at its own MAC. The
# clients' entries for the server are static: N machines would otherwise
# add N more entries to the kernel's neighbour table, whose limit is
# shared with the host.
ip link add bs0 netns "$SRV" type veth peer name bc0 netns "$CLI" || fail "veth"
ip -n "$SRV" addr add $SIP/16 dev bs0
ip -n "$SRV" link set bs0 up
for k in arp_ignore=1 arp_announce=2 rp_filter=0; do
	for scope in all default; do
		ip netns exec "$CLI" sysctl -qw "net.ipv4.conf.$scope.${k%=*}=${k#*=}"
	done
done
ip -n "$CLI" link set bc0 up
smac=$(ip -n "$SRV" -o link show bs0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
for i in $(seq 0 $((N - 1))); do
	echo "link add sm$i link bc0 address $(mac_of "$i") type macvlan mode private"
	echo "link set sm$i up"
	echo "neigh add $SIP lladdr $smac dev sm$i nud permanent"
done >"$T/net.batch"
ip -n "$CLI" -batch "$T/net.batch" || fail "client interfaces"
t_setup=$((SECONDS - t_setup))

ip netns exec "$SRV" "$FB_BIN/fleetboot-bootd" -c "$CONF" -f >"$T/bootd.log" 2>&1 &
echo $! >"$T/bootd.pid"
kill_at_exit "$T/bootd.pid"
ip netns exec "$SRV" "$FB_BIN/fleetboot-storaged" -c "$CONF" -f >"$T/storaged.log" 2>&1 &
echo $! >"$T/storaged.pid"
kill_at_exit "$T/storaged.pid"
up() { ip netns exec "$SRV" curl -sf "http://$SIP:8067/healthz" && ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/$SIP/10809"; }
wait_for 30 up || fail "daemons did not start: $(tail -n 5 "$T/bootd.log" "$T/storaged.log")"
sleep 0.5

# The server: every process in its namespace (bootd, storaged, nbdkit).
server_pids() { ip netns pids "$SRV"; }
cpu_ticks() { # sum of utime + stime
	local p s=0
	for p in $(server_pids); do
		s=$((s + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $s
}
mem_kb() { # FIELD: summed over the server's processes
	local p s=0
	for p in $(server_pids); do
		s=$((s + $(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo $s
}
rss0=$(mem_kb VmRSS)
c0=$(cpu_ticks)
ip netns exec "$CLI" "$GEN" -i sm -n "$N" -t "$TRACE" -k "$THINK" -l "$LAST" \
	-o "$T/storm.csv" -R "$T/ready" -H "$HOLD" >"$T/storm.out" 2>"$T/storm.err" &
gen=$!
wait_for 900 test -e "$T/ready"
c1=$(cpu_ticks)
rss1=$(mem_kb VmRSS)
hwm=$(mem_kb VmHWM)
wait $gen
rc=$?
cat "$T/storm.out"
[ -s "$T/storm.err" ] && head -n 5 "$T/storm.err"
cp "$T/storm.csv" "$FB_ARTIFACTS/storm-$N.csv" 2>/dev/null
hz=$(getconf CLK_TCK)
awk -v c=$((c1 - c0)) -v hz="$hz" -v r0="$rss0" -v r1="$rss1" -v h="$hwm" -v n="$N" \
	-v setup="$t_setup" 'BEGIN {
	printf "server (bootd + storaged + nbdkit): %.2f CPU s, peak RSS %.1f MiB, RSS %.1f -> %.1f MiB with %d booted (%.0f KiB per machine)\n",
	       c / hz, h / 1024, r0 / 1024, r1 / 1024, n, (r1 - r0) / n
	printf "(set-up of %d machines, image and interfaces: %d s, not counted)\n", n, setup }'
grep -q 'takeover\|refused' "$T/bootd.log" && {
	echo "bootd refused or suspected something:"
	grep 'takeover\|refused' "$T/bootd.log" | head -n 5
}
exit $rc
