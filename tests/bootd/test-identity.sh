#!/usr/bin/env bash
# Identity that is not an address (issue 13): an ordinary user on client A
# (setpriv nobody) attacks victim V on the same LAN, and bootd must hold.
#  (a) RELEASE of A's own lease, then REQUEST with chaddr V and ciaddr A's
#      address: V's lease must not move, V's script must not reach A.
#  (b) REQUEST with V's chaddr for a free address: V's lease stays.
#  (c) A sets R's reserved address on its interface (root, as set-up) and
#      asks for R's script and reports R's stage as nobody: refused.
#  (e) relayed requests from a giaddr not in relays, or a relay's giaddr
#      from another sender: dropped and logged; a configured relay works.
#  (f) a registration flood of made-up machines (through the relay): the
#      caps hold, the log says so, and known machines are still answered.
# timeout: 150
. "$(dirname "$0")/common.sh"
requires busybox sqlite3 setpriv
F=$BOOTD_TOOLS/dhcpforge
[ -x "$F" ] || skip "dhcpforge not built"

A_MAC=52:54:00:00:0a:01 V_MAC=52:54:00:00:0b:01 R_MAC=52:54:00:00:0c:01
A_ID=52-54-00-00-0a-01 V_ID=52-54-00-00-0b-01 R_ID=52-54-00-00-0c-01
RELAY=10.77.0.3
bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.120" "lease_time = 600" \
	"relays = $RELAY" "register_per_minute = 20" "register_max = 1000"
sed -i 's/^interface = bs0$/interface = br0/' "$CONF"
for m in $A_MAC $V_MAC; do fb -c "$CONF" machine add $m --image menu >/dev/null || fail "add $m"; done
fb -c "$CONF" machine add $R_MAC --image menu --ip 10.77.0.50 >/dev/null || fail "add R"

# One LAN: a bridge in the server namespace, clients A and V on it.
ns_new SRV srv
ns_new NA a
ns_new NV v
ip -n "$SRV" link add br0 type bridge || fail "bridge"
ip -n "$SRV" addr add $SRV_IP/24 dev br0
ip -n "$SRV" link set br0 up
for c in a v; do
	ns=$NA mac=$A_MAC
	[ $c = v ] && ns=$NV mac=$V_MAC
	ip link add "p$c$$" netns "$SRV" type veth peer name eth0 netns "$ns" || fail "veth $c"
	ip -n "$SRV" link set "p$c$$" master br0 up
	ip -n "$ns" link set eth0 address $mac up
done
bootd_start
udhcpc_script
lease() { # NS OUT
	OUT=$T/$2 ip netns exec "$1" busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
		>"$T/udhcpc-$2.log" 2>&1 || fail "udhcpc $2: $(cat "$T/udhcpc-$2.log")"
	sed -n 's/^ip=//p' "$T/$2.bound"
}
ipV=$(lease "$NV" v1)
ipA=$(lease "$NA" a1)
echo "V has $ipV, A has $ipA"
[ -n "$ipV" ] && [ -n "$ipA" ] && [ "$ipV" != "$ipA" ] || fail "leases: V '$ipV', A '$ipA'"

U=http://$SRV_IP:$HTTP_PORT
# As an ordinary user in a client namespace.
user() { # NS CMD...
	local ns=$1
	shift
	ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
code() { # NS [curl args] URL
	local ns=$1
	shift
	user "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"
}
lease_of() { sqlite3 "$T/state/fleetboot.db" "select ip || ' ' || state from leases where mac = '$1'"; }

assert_eq "$(code "$NV" $U/boot/$V_ID.ipxe)" 200 "V's own script"
assert_eq "$(code "$NA" $U/boot/$A_ID.ipxe)" 200 "A's own script"
assert_eq "$(code "$NA" $U/boot/$V_ID.ipxe)" 403 "V's script to A before any attack"
sleep 0.3
assert_eq "$(lease_of $V_ID)" "$ipV bound" "V's lease before the attacks"

echo "== (a) RELEASE of A's own lease, then REQUEST chaddr=V ciaddr=A's address"
user "$NA" "$F" -s $SRV_IP -t release -m $A_MAC -c "$ipA" -S $SRV_IP || fail "send release"
sleep 0.2
user "$NA" "$F" -s $SRV_IP -t request -m $V_MAC -c "$ipA" || fail "send request"
sleep 0.5
assert_eq "$(code "$NA" $U/boot/$V_ID.ipxe)" 403 "V's script to A after the hijack attempt"
assert_eq "$(lease_of $V_ID)" "$ipV bound" "V's lease after the hijack attempt"
grep -q "dropped a REQUEST from $ipA ($A_ID): chaddr $V_ID is not the frame's source MAC" \
	"$T/bootd.log" || fail "the forged REQUEST was not logged"
ipA=$(lease "$NA" a2) # A's own lease back, for what follows

echo "== (b) REQUEST with V's chaddr for a free address"
user "$NA" "$F" -s $SRV_IP -t request -m $V_MAC -r 10.77.0.119 || fail "send request"
user "$NA" "$F" -s $SRV_IP -t request -m $V_MAC -c "$ipV" || fail "send renew"
user "$NA" "$F" -s $SRV_IP -t decline -m $V_MAC -r "$ipV" -S $SRV_IP || fail "send decline"
user "$NA" "$F" -s $SRV_IP -t release -m $V_MAC -c "$ipV" -S $SRV_IP || fail "send release"
sleep 0.5
assert_eq "$(lease_of $V_ID)" "$ipV bound" "V's lease after REQUEST/DECLINE/RELEASE in its name"
grep -q "ACK $V_ID to .* yiaddr 10.77.0.119" "$T/bootd.log" && fail "10.77.0.119 was acknowledged to V"
assert_eq "$(code "$NV" $U/boot/$V_ID.ipxe)" 200 "V's own script after the attacks"

echo "== (c) R's reserved address set on A's interface"
ip -n "$NA" addr add 10.77.0.50/24 dev eth0
assert_eq "$(code "$NA" --interface 10.77.0.50 $U/boot/$R_ID.ipxe)" 403 "R's script to A at R's reserved address"
assert_eq "$(code "$NA" --interface 10.77.0.50 -X POST "$U/boot/$R_ID/stage?name=userspace")" 403 \
	"R's stage from A at R's reserved address"
grep -q "refused the script of $R_ID to 10.77.0.50: not that machine (the neighbour table" \
	"$T/bootd.log" || fail "refusal at the reserved address not logged"
ip -n "$NA" addr del 10.77.0.50/24 dev eth0

echo "== (e) relayed requests"
user "$NA" "$F" -s $SRV_IP -t discover -m 52:54:00:00:0e:01 -a 0 -g 10.77.0.99 || fail "send"
user "$NA" "$F" -s $SRV_IP -t discover -m 52:54:00:00:0e:02 -a 0 -g $RELAY || fail "send"
sleep 0.5
grep -q "OFFER 52-54-00-00-0e-0[12] to" "$T/bootd.log" && fail "a relayed request from a non-relay was answered"
grep -q "giaddr 10.77.0.99 is not in \[bootd\] relays" "$T/bootd.log" || fail "unknown giaddr not logged"
grep -q "giaddr $RELAY is a relay, but the sender is not" "$T/bootd.log" || fail "forged relay not logged"
# The configured relay itself (A plays it) is answered.
ip -n "$NA" addr add $RELAY/24 dev eth0
user "$NA" "$F" -s $SRV_IP -t discover -m 52:54:00:00:0e:03 -a 0 -g $RELAY -l $RELAY || fail "send"
wait_for 3 grep -q "OFFER 52-54-00-00-0e-03 to $RELAY" "$T/bootd.log" ||
	fail "a request from the configured relay was not answered"

echo "== (f) registration flood through the relay"
nreg() { fb -c "$CONF" machine list --json | grep -o '"mac": *"02-00-00-[0-9a-f-]*"' | sort -u | wc -l; }
user "$NA" "$F" -s $SRV_IP -t discover -m 02:00:00:00:00:00 -n 200 -a 0 -g $RELAY -l $RELAY ||
	fail "flood"
sleep 2
n=$(nreg)
echo "registered after 200 made-up machines: $n"
[ "$n" -le 20 ] || fail "register_per_minute = 20, yet $n machines were registered"
[ "$n" -ge 1 ] || fail "no machine registered at all"
grep -q "registration of unknown machine .* refused: .*register_per_minute" "$T/bootd.log" ||
	fail "the per-minute cap was not logged"
out=$(ip netns exec "$NV" "$BOOTD_TOOLS/pxeprobe" -i eth0 -m $V_MAC -a 0 -V PXEClient) ||
	fail "known machine V not answered during the flood"
echo "$out" | grep -q "file=undionly.kpxe" || fail "V's answer: $out"
bootd_alive
bootd_stop
# The total cap.
sed -i 's/^register_per_minute = .*/register_per_minute = 1000/; s/^register_max = .*/register_max = 30/' "$CONF"
bootd_start
user "$NA" "$F" -s $SRV_IP -t discover -m 02:00:00:00:10:00 -n 200 -a 0 -g $RELAY -l $RELAY ||
	fail "flood"
sleep 2
n=$(nreg)
echo "registered in all: $n"
[ "$n" -le 30 ] || fail "register_max = 30, yet $n machines were registered"
[ "$n" -ge 25 ] || fail "only $n registered (the cap is 30)"
grep -q "refused: .*register_max = 30" "$T/bootd.log" || fail "the total cap was not logged"
out=$(ip netns exec "$NV" "$BOOTD_TOOLS/pxeprobe" -i eth0 -m $V_MAC -a 0 -V PXEClient) ||
	fail "known machine V not answered after the flood"
bootd_alive
bootd_stop
echo pass
