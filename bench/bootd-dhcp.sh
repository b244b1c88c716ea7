#!/usr/bin/env bash
# bench/bootd-dhcp.sh - sustained DHCP four-way exchanges per second with
# leases persisted: bootd (authoritative, SQLite in batches) against
# kea-dhcp4 (memfile, persist=true) and dnsmasq (--no-ping, lease file),
# each measured by perfdhcp in relay mode over a veth between two network
# namespaces, one after the other in the same run, same settings.
#
# perfdhcp runs in its single-thread mode (-g single): on a 2-core machine
# its default multi-thread mode keeps about 1.5 cores busy and leaves the
# server under test half a core, so the figure measured perfdhcp rather
# than the server. Single-thread perfdhcp takes one core and leaves the
# other to the server, the same for all three servers.
#
# Even so, perfdhcp needs its whole core for about 20000 exchanges a second
# here, and drops replies at its own socket beyond that. So each server is
# measured a second time by dhcpload (tests/bootd/tools), a closed-loop
# relay-mode client that keeps 64 exchanges in flight with new client MACs
# and costs a few microseconds per exchange: that figure is the server's.
#
#   FB_BENCH_SECS=10 FB_BENCH_RATE=20000 bash bench/bootd-dhcp.sh
set -u
. "$(dirname "$0")/../tests/bootd/common.sh"
requires perfdhcp
export BOOTD_ARGS="" # read by tests/bootd/common.sh: no -v in benchmarks
SECS=${FB_BENCH_SECS:-10}
RATE=${FB_BENCH_RATE:-40000}
CLIENTS=200000

bootd_env "dhcp = authoritative" "pool = 10.64.1.1-10.127.255.250" "netmask = 255.192.0.0" \
	"lease_time = 3600" "relays = 10.77.0.2" # perfdhcp and dhcpload talk as this relay
bootd_net
ip -n "$CLI" addr add 10.77.0.2/10 dev bc0
ip -n "$SRV" addr flush dev bs0
ip -n "$SRV" addr add $SRV_IP/10 dev bs0

cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
perf() { # NAME SERVER_PID -> prints "RATE ACK_DROPS CPU_US_PER_EXCHANGE"
	local c0 c1
	c0=$(cputicks "$2")
	ip netns exec "$CLI" perfdhcp -g single -4 -l 10.77.0.2 -r "$RATE" -R $CLIENTS -p "$SECS" \
		-W 1000000 10.77.0.1 >"$T/perf-$1.log" 2>&1
	c1=$(cputicks "$2")
	local rate drops acks
	rate=$(sed -n 's/^Rate: *\([0-9.]*\) 4-way.*/\1/p' "$T/perf-$1.log" | head -n 1)
	drops=$(awk '/REQUEST-ACK/{f=1} f&&/^drops:/{print $2; exit}' "$T/perf-$1.log")
	acks=$(awk '/REQUEST-ACK/{f=1} f&&/^received packets:/{print $3; exit}' "$T/perf-$1.log")
	# The server's CPU time (user + system) over the run, per completed exchange.
	local us
	us=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="${acks:-0}" \
		'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "n/a" }')
	echo "${rate:-0} ${drops:-?} $us"
}

LOAD=$BOOTD_TOOLS/dhcpload
[ -x "$LOAD" ] || skip "dhcpload not built"
load() { # NAME SERVER_PID -> prints "RATE TIMEOUTS CPU_US_PER_EXCHANGE"
	local c0 c1 out
	c0=$(cputicks "$2")
	out=$(ip netns exec "$CLI" "$LOAD" -l 10.77.0.2 -c 64 -n 2000000 -t "$SECS" 10.77.0.1 \
		2>"$T/load-$1.err")
	c1=$(cputicks "$2")
	echo "$out" >"$T/load-$1.log"
	echo "$out" | awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '/^ok/ {
		n = $3; r = $7; sub("/s", "", r)
		printf "%s %s %s\n", r, $9, (n > 0 ? sprintf("%.1f", t * 1e6 / hz / n) : "n/a"); f = 1 }
		END { if (!f) print "0 - n/a" }'
}

# bootd
bootd_start
read -r r_bootd d_bootd u_bootd < <(perf bootd "$BOOTD_PID")
sleep 1
read -r l_bootd t_bootd v_bootd < <(load bootd "$BOOTD_PID")
sleep 1.2
bootd_stop
nleases=$(sqlite3 "$T/state/fleetboot.db" "select count(*) from leases" 2>/dev/null || echo "?")

# kea-dhcp4, memfile persisted to a CSV file
cat >"$T/kea.json" <<J
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["bs0"], "dhcp-socket-type": "udp"},
  "lease-database": {"type": "memfile", "persist": true, "name": "$T/kea-leases.csv", "lfc-interval": 0},
  "valid-lifetime": 3600,
  "subnet4": [{"subnet": "10.64.0.0/10", "id": 1, "pools": [{"pool": "10.64.1.1 - 10.127.255.250"}]}],
  "loggers": [{"name": "kea-dhcp4", "severity": "ERROR", "output_options": [{"output": "$T/kea.log"}]}]
}}
J
r_kea=0 d_kea=- u_kea=- l_kea=0 t_kea=- v_kea=-
if command -v kea-dhcp4 >/dev/null; then
	KEA_PIDFILE_DIR=$T KEA_LOCKFILE_DIR=$T ip netns exec "$SRV" kea-dhcp4 -c "$T/kea.json" \
		>"$T/kea.out" 2>&1 &
	echo $! >"$T/kea.pid"
	kill_at_exit "$T/kea.pid"
	sleep 2
	read -r r_kea d_kea u_kea < <(perf kea "$(cat "$T/kea.pid")")
	sleep 1
	read -r l_kea t_kea v_kea < <(load kea "$(cat "$T/kea.pid")")
	kill "$(cat "$T/kea.pid")"
	sleep 1
fi

# dnsmasq, no ping check, lease file
r_dm=0 d_dm=- u_dm=- l_dm=0 t_dm=- v_dm=-
if command -v dnsmasq >/dev/null; then
	ip netns exec "$SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface=bs0 --bind-interfaces --no-ping --user=root \
		--dhcp-range=10.64.1.1,10.127.255.250,255.192.0.0,1h --dhcp-lease-max=300000 \
		--dhcp-leasefile="$T/dnsmasq.leases" >"$T/dnsmasq.log" 2>&1 &
	echo $! >"$T/dm.pid"
	kill_at_exit "$T/dm.pid"
	sleep 1
	read -r r_dm d_dm u_dm < <(perf dnsmasq "$(cat "$T/dm.pid")")
	sleep 1
	read -r l_dm t_dm v_dm < <(load dnsmasq "$(cat "$T/dm.pid")")
	kill "$(cat "$T/dm.pid")"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
row() { printf '%-28s %14s %10s %16s\n' "$@"; }
table() { # TITLE LOSS_COLUMN then rate, loss, CPU for bootd, kea, dnsmasq
	row "$1" "exchanges/s" "$2" "server CPU us/ex"
	row "fleetboot-bootd" "$3" "$4" "$5"
	row "kea-dhcp4 2.2 (memfile)" "$6" "$7" "$8"
	row "dnsmasq (--no-ping)" "$9" "${10}" "${11}"
}
table "DHCP (perfdhcp relay, ${SECS}s)" "ACK drops" "$r_bootd" "$d_bootd" "$u_bootd" \
	"$r_kea" "$d_kea" "$u_kea" "$r_dm" "$d_dm" "$u_dm"
echo "bootd / kea:     $(ratio "$r_bootd" "$r_kea")   (target >= 2x)"
echo "bootd / dnsmasq: $(ratio "$r_bootd" "$r_dm")"
echo "server CPU per exchange, kea / bootd: $(ratio "$u_kea" "$u_bootd")" \
	"(bootd's includes its busy_poll spinning)"
table "DHCP (dhcpload, 64 in flight)" "timeouts" "$l_bootd" "$t_bootd" "$v_bootd" \
	"$l_kea" "$t_kea" "$v_kea" "$l_dm" "$t_dm" "$v_dm"
echo "closed loop bootd / kea:     $(ratio "$l_bootd" "$l_kea")   (target >= 2x)"
echo "closed loop bootd / dnsmasq: $(ratio "$l_bootd" "$l_dm")"
echo "bootd leases persisted in the database after the run: $nleases"
