#!/usr/bin/env bash
# Proxy mode (another DHCP server leases): the neighbour table is all that
# says who an address is. Root on a client can forge it (a spoofed MAC in
# its ARP), which no PXE server can prevent; bootd must at least notice.
# Client A asks for its own script from 10.77.0.50; then root on A takes
# on V's MAC and makes the server's neighbour entry for 10.77.0.50 say V.
# The next request (as an ordinary user) is logged as a suspected takeover
# and recorded as a takeover-suspected event of both machines.
# timeout: 90
. "$(dirname "$0")/common.sh"
requires setpriv busybox

A_MAC=52:54:00:00:0a:01 V_MAC=52:54:00:00:0b:01
A_ID=52-54-00-00-0a-01 V_ID=52-54-00-00-0b-01
bootd_env "dhcp = proxy"
for m in $A_MAC $V_MAC; do fb -c "$CONF" machine add "$m" --image menu >/dev/null || fail "add $m"; done
bootd_net
ip -n "$CLI" link set bc0 address $A_MAC
ip -n "$CLI" addr add 10.77.0.50/24 dev bc0
bootd_start
U=http://$SRV_IP:$HTTP_PORT
code() { # URL
	ip netns exec "$CLI" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"
}
assert_eq "$(code "$U/boot/$A_ID.ipxe")" 200 "A's own script"
assert_eq "$(code "$U/boot/$V_ID.ipxe")" 403 "V's script to A"
grep -q "takeover suspected" "$T/bootd.log" && fail "a takeover suspected before any"

# Root on A: V's MAC, and an ARP request that makes the server's entry for
# 10.77.0.50 say V (the kernel takes a new MAC from an ARP request only a
# second after the entry's last change).
ip -n "$CLI" link set bc0 address $V_MAC
sleep 1.2
forged() { ip -n "$SRV" neigh show 10.77.0.50 | grep -qi "$V_MAC"; }
for _ in 1 2 3 4 5; do
	ip netns exec "$CLI" busybox arping -q -c 1 -w 1 -I bc0 -s 10.77.0.50 $SRV_IP
	forged && break
	sleep 1
done
forged || fail "the neighbour entry was not forged: $(ip -n "$SRV" neigh show)"
# Served (proxy mode has nothing else to go by), but not silently.
code "$U/boot/$V_ID.ipxe" >/dev/null
wait_for 3 grep -q "takeover suspected: 10.77.0.50 was $A_ID, now the neighbour table says $V_ID" \
	"$T/bootd.log" || fail "the neighbour entry's change of MAC was not logged"
sleep 1
events_of $V_MAC | grep -q "takeover-suspected" || fail "no takeover-suspected event for V: $(events_of $V_MAC)"
events_of $A_MAC | grep -q "takeover-suspected" || fail "no takeover-suspected event for A"
bootd_alive
bootd_stop
echo pass
