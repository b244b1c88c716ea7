#!/usr/bin/env bash
# bootd authoritative DHCP with busybox udhcpc: a lease from the pool, a
# renewal, the same address after a bootd restart (leases persisted), a
# reservation, and a foreign requested address refused.
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.110" "router = 10.77.0.1" \
	"dns = 10.77.0.1" "lease_time = 120"
bootd_net
# As installed: the state tree belongs to a service user (nobody stands in
# for fleetboot), so bootd runs unprivileged but for CAP_NET_ADMIN, which
# the unicast replies below need.
chmod 755 "$T"
chown -R nobody "$T/state"
bootd_start
grep -q "running as nobody" "$T/bootd.log" || fail "bootd did not drop root"
udhcpc_script
# in_pool IP: IP is one of the pool's, 10.77.0.100 to 10.77.0.110.
in_pool() {
	local last=${1##*.}
	[ "${1%.*}" = 10.77.0 ] || return 1
	case $last in '' | *[!0-9]*) return 1 ;; esac
	[ "$last" -ge 100 ] && [ "$last" -le 110 ]
}
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01

# 1. A lease from the pool.
OUT=$T/a ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>"$T/udhcpc1.log" 2>&1 || fail "udhcpc got no lease: $(cat "$T/udhcpc1.log")"
ip1=$(sed -n 's/^ip=//p' "$T/a.bound")
echo "lease: $ip1"
in_pool "$ip1" || fail "address $ip1 is not from the pool"
assert_eq "$(sed -n 's/^serverid=//p' "$T/a.bound")" 10.77.0.1 "server identifier"
assert_eq "$(sed -n 's/^lease=//p' "$T/a.bound")" 120 "lease time"
assert_eq "$(sed -n 's/^router=//p' "$T/a.bound")" 10.77.0.1 "router"
# A plain DHCP client gets no boot file.
grep -q '^boot_file=' "$T/a.bound" && fail "a non-PXE client got a boot file"

# Reply addressing: without the broadcast flag the reply was unicast to
# the new address (after a neighbour entry for the client's MAC); with it
# (udhcpc -B), broadcast.
grep -q "ACK 52-54-00-00-00-01 to $ip1 yiaddr $ip1 via bs0" "$T/bootd.log" ||
	fail "reply to a client without an address was not unicast: $(grep ACK "$T/bootd.log")"
ip netns exec "$SRV" ip neigh show "$ip1" | grep -qi "52:54:00:00:00:01" || fail "no neighbour entry"
ip -n "$CLI" addr flush dev bc0
OUT=$T/bb ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -B -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "udhcpc -B got no lease"
grep -q "ACK 52-54-00-00-00-01 to 255.255.255.255 yiaddr $ip1" "$T/bootd.log" ||
	fail "broadcast flag not honoured"

# 2. Renewal: udhcpc in the background, SIGUSR1 makes it renew (unicast).
OUT=$T/b ip netns exec "$CLI" busybox udhcpc -i bc0 -f -t 4 -T 1 -s "$T/udhcpc.sh" \
	-p "$T/udhcpc.pid" >"$T/udhcpc2.log" 2>&1 &
kill_at_exit "$T/udhcpc.pid"
wait_for 10 test -s "$T/b.bound" || fail "background udhcpc got no lease"
assert_eq "$(sed -n 's/^ip=//p' "$T/b.bound")" "$ip1" "second run address"
# The renewal goes to the server's address (not broadcast), and bootd
# answers it with one more ACK sent to the client's address.
ack="ACK 52-54-00-00-00-01 to $ip1 yiaddr $ip1 via bs0"
acks=$(grep -c "$ack" "$T/bootd.log")
kill -USR1 "$(cat "$T/udhcpc.pid")"
wait_for 10 test -s "$T/b.renew" || fail "no renewal: $(cat "$T/udhcpc2.log")"
assert_eq "$(sed -n 's/^ip=//p' "$T/b.renew")" "$ip1" "renewed address"
grep -q "sending renew to \(server \)\?10.77.0.1\b" "$T/udhcpc2.log" ||
	fail "the renewal was not sent to the server's address: $(cat "$T/udhcpc2.log")"
wait_for 5 sh -c '[ "$(grep -c "$1" "$2")" -gt "$3" ]' sh "$ack" "$T/bootd.log" "$acks" ||
	fail "no unicast ACK of the renewal: $(grep ACK "$T/bootd.log")"
kill "$(cat "$T/udhcpc.pid")"
sleep 1.1 # a lease acknowledged more than a second ago must survive

# bootd reports itself for `fleetboot status`.
wait_for 8 sh -c "'$FB_BIN/fleetboot' -c '$CONF' status --json 2>/dev/null | grep -q 'bootd.daemon'" ||
	fail "no bootd status in fleetboot status"
# 3. Kill bootd hard (no chance to flush) and restart it: the lease,
# acknowledged more than a second ago, comes back from the database.
# Another client asks first and must not get the first client's address.
kill -9 "$BOOTD_PID"
wait "$BOOTD_PID" 2>/dev/null
bootd_start
ip -n "$CLI" link set bc0 address 52:54:00:00:00:02
OUT=$T/c ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "second client got no lease"
ip2=$(sed -n 's/^ip=//p' "$T/c.bound")
[ "$ip2" != "$ip1" ] || fail "after a restart, $ip1 was handed to another client"
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01
ip -n "$CLI" addr flush dev bc0
OUT=$T/d ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "no lease after restart"
assert_eq "$(sed -n 's/^ip=//p' "$T/d.bound")" "$ip1" "address after a bootd restart"

# 4. A reservation outside the pool is honoured (cache refresh within 1 s).
fb -c "$CONF" machine add 52:54:00:00:00:03 --ip 10.77.0.50 --image menu >/dev/null ||
	fail "machine add"
sleep 1.5
ip -n "$CLI" link set bc0 address 52:54:00:00:00:03
ip -n "$CLI" addr flush dev bc0
OUT=$T/e ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "reserved machine got no lease"
assert_eq "$(sed -n 's/^ip=//p' "$T/e.bound")" 10.77.0.50 "reserved address"
# ...and a client asking for the reserved address by name gets another one.
ip -n "$CLI" link set bc0 address 52:54:00:00:00:04
ip -n "$CLI" addr flush dev bc0
OUT=$T/f ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -r 10.77.0.50 \
	-s "$T/udhcpc.sh" >/dev/null 2>&1 || fail "fourth client got no lease"
[ "$(sed -n 's/^ip=//p' "$T/f.bound")" != 10.77.0.50 ] || fail "reserved address given away"

# 5. A client asking for a foreign address gets one from the pool instead.
ip -n "$CLI" link set bc0 address 52:54:00:00:00:05
ip -n "$CLI" addr flush dev bc0
OUT=$T/g ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -r 192.168.5.5 \
	-s "$T/udhcpc.sh" >"$T/udhcpc5.log" 2>&1 || fail "no lease when asking for a foreign address"
ip5=$(sed -n 's/^ip=//p' "$T/g.bound")
in_pool "$ip5" || fail "foreign address handed out: $ip5"

bootd_alive
bootd_stop
echo "pass"
