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
# recorded under TCG: 0 replays the I/O back to back). FB_STORM_GEN names
# another stormgen (the sanitizer build: build-san/bench/stormgen).
# FB_STORM_TRACE names the block trace the root disks replay (default
# bench/traces/busybox.trace; bench/traces/README.md lists them); the
# machines boot the image the trace was recorded from (its "# image:"
# line, busybox when it has none), or FB_STORM_IMAGE.
#
# Exit status: 0 when every machine booted through fleetboot, 1 when
# fleetboot lost machines, another non-zero status for a broken run (a
# set-up step failed, stormgen could not run or crashed). The peer stack's
# failed machines are figures in its column, not a failure of the run.
set -u
. "$(dirname "$0")/../tests/lib.sh"
requires_root
requires ip curl mke2fs
# A step that fails is a broken run (2), never "fleetboot lost machines" (1).
fail() {
	echo "FAIL: $*" >&2
	echo "result: FAILED: a broken run ($*)"
	exit 2
}
N=${FB_STORM_N:-50}
LAST=${FB_STORM_LAST:-userspace}
THINK=${FB_STORM_THINK:-1}
HOLD=${FB_STORM_HOLD:-3}
GEN=${FB_STORM_GEN:-$(cd "$FB_BIN/.." && pwd)/bench/stormgen}
TRACE=${FB_STORM_TRACE:-$FB_TOP/bench/traces/busybox.trace}
[ -r "$TRACE" ] || fail "FB_STORM_TRACE=$TRACE: no such trace"
FROM=${FB_STORM_IMAGE:-$(sed -n 's/^# image: *//p' "$TRACE" | head -n 1)}
FROM=${FROM:-busybox}
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
fb image build tiny --from "$FROM" --cmdline "console=ttyS0" >"$T/build.log" 2>&1 ||
	fail "image build ($FROM): $(tail -n 20 "$T/build.log")"
# The trace's requests must fall inside the disk it replays on.
disk=$(stat -c %s "$T/state/images/tiny/1/rootfs.img") || fail "no rootfs.img"
end=$(awk '!/^#/ && $1 != "F" && $2 + $3 > e { e = $2 + $3 } END { printf "%.0f", e }' "$TRACE")
[ "$end" -le "$disk" ] ||
	fail "$TRACE reaches byte $end, past the $FROM disk's $disk (FB_STORM_IMAGE: the image it was recorded from)"
echo "(image $FROM: disk $disk bytes; trace $(basename "$TRACE"), $(grep -vc '^#' "$TRACE") requests)"
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
# The kernel's neighbour table is one for the whole host (gc_thresh3,
# 1024 entries by default, all namespaces together): a server for N
# machines on one segment holds N entries, and past the limit new ones
# fail ("neighbor table overflow") and the server's replies with them. A
# storm of more than 400 raises the limits for its run, as a server for
# that many machines needs, and puts them back at exit.
if [ "$N" -gt 400 ]; then
	nd=/proc/sys/net/ipv4/neigh/default
	for k in gc_thresh2 gc_thresh3; do
		old=$(cat "$nd/$k")
		want=$((4 * N + 1024))
		[ $k = gc_thresh2 ] && want=$((2 * N + 512))
		if [ "$old" -lt "$want" ]; then
			echo "$want" >"$nd/$k" && cleanup "echo $old >$nd/$k"
			echo "(net.ipv4.neigh.default.$k raised from $old to $want for this run)"
		fi
	done
fi
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

# The server: every process in its namespace (bootd, storaged, nbdkit; or
# the peer stack's dnsmasq, nginx and nbdkit processes).
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
port_open() { ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/$SIP/$1" 2>/dev/null; }
hz=$(getconf CLK_TCK)

# storm NAME [stormgen args]: one storm against what runs in $SRV now; its
# figures go to $T/NAME.out and the summary line to $T/NAME.sum.
storm() {
	local name=$1 rss0 rss1 hwm c0 c1 gen rc
	shift
	rm -f "$T/ready"
	# Every machine powers on with no address, as after a power cut.
	for i in $(seq 0 $((N - 1))); do echo "addr flush dev sm$i"; done >"$T/flush.batch"
	ip -n "$CLI" -batch "$T/flush.batch"
	rss0=$(mem_kb VmRSS)
	c0=$(cpu_ticks)
	ip netns exec "$CLI" "$GEN" -i sm -n "$N" -t "$TRACE" -k "$THINK" -l "$LAST" \
		-o "$T/$name.csv" -R "$T/ready" -H "$HOLD" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	gen=$!
	# Until every machine is done (or stormgen ended without that: a
	# broken run, which its exit status says).
	wait_for 900 sh -c '[ -e "$1" ] || ! kill -0 "$2" 2>/dev/null' sh "$T/ready" "$gen"
	c1=$(cpu_ticks)
	rss1=$(mem_kb VmRSS)
	hwm=$(mem_kb VmHWM)
	wait $gen
	rc=$?
	cp "$T/$name.csv" "$FB_ARTIFACTS/storm-$name-$N.csv" 2>/dev/null
	awk -v c=$((c1 - c0)) -v hz="$hz" -v r0="$rss0" -v r1="$rss1" -v h="$hwm" -v n="$N" 'BEGIN {
		printf "server: %.2f CPU s, peak RSS %.1f MiB, RSS %.1f -> %.1f MiB with %d booted (%.0f KiB per machine)\n",
		       c / hz, h / 1024, r0 / 1024, r1 / 1024, n, (r1 - r0) / n
		printf "server_cpu_s=%.2f server_hwm_mib=%.1f\n", c / hz, h / 1024 > "/dev/stderr" }' \
		>>"$T/$name.out" 2>"$T/$name.srv"
	echo "== $name"
	cat "$T/$name.out"
	[ -s "$T/$name.err" ] && head -n 5 "$T/$name.err"
	{ grep '^summary' "$T/$name.out" | tr ' ' '\n'; tr ' ' '\n' <"$T/$name.srv"; } | grep '=' >"$T/$name.sum"
	return $rc
}
val() { sed -n "s/^$2=//p" "$T/$1.sum"; } # NAME KEY
# The verdict, and the exit status: fleetboot's result and the run's, never
# the peer stack's (its failed machines are figures of its column).
prc=0
finish() {
	case $rc in
	0) echo "result: fleetboot booted all $N machines$([ "$prc" = 1 ] &&
		echo "; the peer stack lost $(val peer failed) (a figure, not an error of the run)")" ;;
	1) echo "result: FAILED: fleetboot lost $(val fleetboot failed) of $N machines" ;;
	*) echo "result: FAILED: a broken run (stormgen exited $rc)" ;;
	esac
	exit "$rc"
}

# fleetboot: bootd and storaged (web is not on the boot path).
ip netns exec "$SRV" "$FB_BIN/fleetboot-bootd" -c "$CONF" -f >"$T/bootd.log" 2>&1 &
echo $! >"$T/bootd.pid"
kill_at_exit "$T/bootd.pid"
ip netns exec "$SRV" "$FB_BIN/fleetboot-storaged" -c "$CONF" -f >"$T/storaged.log" 2>&1 &
echo $! >"$T/storaged.pid"
kill_at_exit "$T/storaged.pid"
up() { ip netns exec "$SRV" curl -sf "http://$SIP:8067/healthz" && port_open 10809; }
wait_for 30 up || fail "daemons did not start: $(tail -n 5 "$T/bootd.log" "$T/storaged.log")"
sleep 0.5
echo "(set-up of $N machines, image and interfaces: $t_setup s, not counted)"
storm fleetboot
rc=$?
# What the server itself recorded of the first machine's boot: the storm
# is a boot only if bootd saw every stage of one, in order.
# bootd commits events in batches (about 100 ms): give the last report of
# the storm a moment to land before reading.
stages0() { fb events --machine "$(mac_of 0)" --json | sed -n 's/.*"stage": *"\([^"]*\)".*/\1/p' | tr '\n' ' '; }
for _ in $(seq 50); do
	case $(stages0) in *userspace*) break ;; esac
	sleep 0.1
done
echo "server's events for machine 0: $(stages0)"
for d in bootd storaged; do
	grep -q 'takeover\|refused' "$T/$d.log" || continue
	echo "$d refused or suspected something ($(grep -c 'takeover\|refused' "$T/$d.log") lines):"
	grep 'takeover\|refused' "$T/$d.log" | head -n 5
done
ip netns exec "$SRV" curl -sf "http://$SIP:8067/boot.ipxe" >"$T/boot.ipxe" || fail "no /boot.ipxe"
# bootd's HTTP alone, as the link reference measures nginx below: the same
# parallel downloads of the kernel (from an address of the client
# namespace that is no machine's), so a phase's time in the storm can be
# told apart from what the server can serve.
ip -n "$CLI" addr add 10.77.0.2/16 dev bc0
conns=$((N < 1000 ? N : 1000))
wrk_rate() { # LOG: Transfer/sec in bytes
	awk '/^Transfer\/sec/ { v = $2; u = substr(v, length(v) - 1); n = v + 0
		if (u == "GB") n *= 1e9; else if (u == "MB") n *= 1e6; else if (u == "KB") n *= 1e3
		printf "%.0f", n }' "$1"
}
fb_link=
if command -v wrk >/dev/null && [ "${FB_STORM_PEER:-1}" = 1 ]; then
	ip netns exec "$CLI" wrk -t 2 -c "$conns" -d 5s --timeout 30s \
		"http://$SIP:8067/images/tiny/1/vmlinuz" >"$T/wrk-fb.log" 2>&1
	fb_link=$(wrk_rate "$T/wrk-fb.log")
fi
kill "$(cat "$T/bootd.pid")" "$(cat "$T/storaged.pid")"
down() { ! port_open 8067 && ! port_open 10809; }
wait_for 15 down || fail "bootd or storaged did not stop"
sleep 1
[ "${FB_STORM_PEER:-1}" = 1 ] || finish

# The peer stack on the same files: dnsmasq (DHCP, TFTP), nginx (scripts,
# kernel, initrd, the credential as a file, stage reports answered 204)
# and one nbdkit with the cow filter per machine (one export each, on its
# own port: the machine's script names it).
for c in dnsmasq nginx nbdkit wrk; do
	command -v $c >/dev/null || { echo "(no $c: peer stack skipped)"; finish; }
done
img=$T/state/images/tiny/1
P=$T/peer
mkdir -p "$P/tftp" "$P/www/images/tiny/1" "$P/nginx"
cp "$T/state/tftp/undionly.kpxe" "$P/tftp/"
cp "$T/boot.ipxe" "$P/www/boot.ipxe"
ln -s "$img/vmlinuz" "$img/initrd.img" "$P/www/images/tiny/1/"
for i in $(seq 0 $((N - 1))); do
	id=$(mac_of "$i" | tr : -)
	mkdir -p "$P/www/boot/$id"
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$P/www/boot/$id/credential"
	cmd="ip=dhcp fleetboot.server=$SIP fleetboot.machine=$id fleetboot.mode=persistent"
	cmd="$cmd fleetboot.root=nbd:$SIP:$((20000 + i)) fleetboot.report=http://$SIP:8067/boot/$id/stage"
	printf '#!ipxe\nkernel http://%s:8067/images/tiny/1/vmlinuz initrd=initrd.img %s console=ttyS0\ninitrd --name initrd.img http://%s:8067/images/tiny/1/initrd.img\nboot\n' \
		"$SIP" "$cmd" "$SIP" >"$P/www/boot/$id.ipxe"
done
chmod -R a+rX "$T"
cat >"$P/nginx/nginx.conf" <<NG
worker_processes auto;
pid $P/nginx/nginx.pid;
error_log $P/nginx/error.log;
events { worker_connections 8192; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	client_body_temp_path $P/nginx;
	proxy_temp_path $P/nginx;
	fastcgi_temp_path $P/nginx;
	uwsgi_temp_path $P/nginx;
	scgi_temp_path $P/nginx;
	server {
		listen $SIP:8067 backlog=4096;
		root $P/www;
		location ~ ^/boot/[^/]+/stage\$ { return 204; }
	}
}
NG
ip -n "$SRV" neigh flush dev bs0
ip netns exec "$SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
	--interface=bs0 --bind-interfaces --no-ping --user=root \
	--dhcp-range=10.77.1.1,10.77.15.250,255.255.0.0,1h --dhcp-lease-max=20000 \
	--dhcp-leasefile="$P/dnsmasq.leases" --dhcp-userclass=set:ipxe,iPXE \
	--dhcp-boot='tag:!ipxe,undionly.kpxe' --dhcp-boot="tag:ipxe,http://$SIP:8067/boot.ipxe" \
	--enable-tftp --tftp-root="$P/tftp" --tftp-max=5000 --log-facility="$P/dnsmasq.log" \
	>"$P/dnsmasq.out" 2>&1 &
echo $! >"$P/dnsmasq.pid"
kill_at_exit "$P/dnsmasq.pid"
ip netns exec "$SRV" nginx -c "$P/nginx/nginx.conf" -g 'daemon off;' >"$P/nginx.out" 2>&1 &
echo $! >"$P/nginx.pid"
kill_at_exit "$P/nginx.pid"
# Each nbdkit forks into the background and leaves its pid file; they
# are stopped by pid (the namespace's clean-up kills what is left).
ip netns exec "$SRV" bash -c 'for i in $(seq 0 $(($1 - 1))); do
	nbdkit -i "$2" -p $((20000 + i)) -P "$3/nbdkit-$i.pid" --filter=cow file "$4" || exit 1
done' _ "$N" "$SIP" "$P" "$img/rootfs.img" || fail "peer nbdkit did not start"
cleanup "cat '$P'/nbdkit-*.pid 2>/dev/null | xargs -r kill"
wait_for 30 port_open 8067 || fail "nginx did not start: $(cat "$P/nginx.out")"
wait_for 30 port_open $((20000 + N - 1)) || fail "nbdkit $((N - 1)) did not start"
sleep 0.5
storm peer
prc=$?
# The peer stack's failed machines are a figure of the table (stormgen
# exits 1); anything else (2: set-up or usage, a crash) is a broken run.
[ $prc = 0 ] || [ $prc = 1 ] || rc=$prc

# The link reference: the best aggregate throughput of plain parallel
# downloads of the kernel from nginx over the same veth, N connections (at
# most 1000), from one address of the client namespace.
ip netns exec "$CLI" wrk -t 2 -c "$conns" -d 5s --timeout 30s \
	"http://$SIP:8067/images/tiny/1/vmlinuz" >"$T/wrk.log" 2>&1
link=$(wrk_rate "$T/wrk.log")

echo
printf '%-34s %14s %14s %10s\n' "boot storm, $N machines, to $LAST" fleetboot "peer stack" "peer/fb"
row() { # LABEL KEY FORMAT
	local a b
	a=$(val fleetboot "$2") b=$(val peer "$2")
	printf "%-34s %14s %14s %10s\n" "$1" "${a:--}" "${b:--}" \
		"$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')"
}
row "time until all N (s)" all_s
row "per machine p50 (s)" p50_s
row "per machine p95 (s)" p95_s
row "per machine max (s)" max_s
row "failed machines" failed
row "retries" retries
row "server CPU (s)" server_cpu_s
row "server peak RSS (MiB)" server_hwm_mib
row "bytes moved" bytes
# The link reference is the better of the two plain-download rates (the
# bytes cannot move faster than the path carries them; at 1000 connections
# nginx, not the path, is the limit of its own wrk run).
if [ -n "$fb_link" ]; then
	awk -v f="$fb_link" -v l="${link:-0}" -v c="$conns" 'BEGIN {
	printf "HTTP alone, %d parallel kernel downloads: bootd %.1f MB/s, nginx %.1f MB/s (bootd %.2fx)\n",
	       c, f / 1e6, l / 1e6, (l > 0 ? f / l : 0) }'
else
	echo "HTTP alone: wrk measured nothing against bootd: $(tail -n 3 "$T/wrk-fb.log" 2>/dev/null | tr '\n' ' ')"
fi
think=$(awk -v k="$THINK" '!/^#/ && NF >= 5 { us += $5 } END { printf "%.3f", us * k / 1e6 }' "$TRACE")
awk -v b="$(val fleetboot bytes)" -v l="${link:-0}" -v f="${fb_link:-0}" -v t="$(val fleetboot all_s)" \
	-v p="$(val peer all_s)" -v c="$conns" -v k="$think" 'BEGIN {
	who = "nginx"
	if (f > l) { l = f; who = "bootd" }
	if (l > 0) {
		printf "link reference: %.1f MB/s (%d parallel downloads from %s); the storm'"'"'s bytes alone take %.2f s:", l / 1e6, c, who, b / l
		printf " fleetboot %.2fx that", t / (b / l)
		if (p > 0) printf ", the peer stack %.2fx", p / (b / l)
		printf "\n"
		# A machine cannot finish before its share of the bytes and
		# the client time its trace replays (WAIT_US, scaled by THINK).
		fl = b / l + k
		printf "floor: the bytes alone plus the trace'"'"'s client time (%.2f s) take %.2f s: fleetboot %.2fx that", k, fl, t / fl
		if (p > 0) printf ", the peer stack %.2fx", p / fl
		printf "\n"
	} else print "link reference: wrk measured nothing" }'
finish
