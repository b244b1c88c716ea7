#!/usr/bin/env bash
# perfdhcp (kea-admin) in relay mode (giaddr set, replies unicast to the
# relay on port 67) completes four-way exchanges with bootd, and so does
# make bench's closed-loop client, dhcpload.
# timeout: 90
. "$(dirname "$0")/common.sh"
requires perfdhcp

# Both talk as the relay 10.77.0.2: bootd answers only configured relays.
bootd_env "dhcp = authoritative" "pool = 10.77.4.1-10.77.7.250" "netmask = 255.255.0.0" \
	"lease_time = 600" "relays = 10.77.0.2"
bootd_net
ip -n "$CLI" addr add 10.77.0.2/24 dev bc0
bootd_start

ip netns exec "$CLI" perfdhcp -4 -l 10.77.0.2 -r 200 -R 500 -p 5 -W 1000000 10.77.0.1 \
	>"$T/perfdhcp.log" 2>&1
cat "$T/perfdhcp.log"
# "received packets: N" appears for DISCOVER-OFFER then REQUEST-ACK.
mapfile -t recv < <(sed -n 's/^received packets: *\([0-9]*\).*/\1/p' "$T/perfdhcp.log")
mapfile -t sent < <(sed -n 's/^sent packets: *\([0-9]*\).*/\1/p' "$T/perfdhcp.log")
[ ${#recv[@]} -ge 2 ] || fail "perfdhcp reported no request-ack phase"
echo "offers ${recv[0]}/${sent[0]}, acks ${recv[1]}/${sent[1]}"
[ "${recv[1]}" -gt 500 ] || fail "only ${recv[1]} ACKs in 5 s"
# Nearly every exchange completes (a few in flight at the end are normal).
[ $((sent[1] - recv[1])) -le $((sent[1] / 20 + 5)) ] || fail "too many requests unanswered"

# make bench's closed-loop client against the same server: every exchange
# it starts completes, none times out, and each ends in a lease bootd writes.
out=$(ip netns exec "$CLI" "$BOOTD_TOOLS/dhcpload" -l 10.77.0.2 -c 16 -n 300 -t 2 10.77.0.1) ||
	fail "dhcpload completed no exchange: $out"
echo "dhcpload: $out"
echo "$out" | grep -q "timeouts 0 naks 0$" || fail "dhcpload: exchanges lost: $out"
bootd_alive
bootd_stop
n=$(sqlite3 "$T/state/fleetboot.db" "select count(*) from leases where mac like '02-4c-%'")
[ "$n" = 300 ] || fail "dhcpload's 300 clients hold $n leases in the database"
echo pass
