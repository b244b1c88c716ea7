#!/usr/bin/env bash
# Crafted PXE DISCOVERs (arch 0, 7, 9, 16; with and without user-class
# iPXE) get the right file or URL and next-server, in authoritative and in
# proxy mode (no address; REQUEST on port 4011); boot events are recorded;
# unknown machines are registered; malformed packets are dropped and the
# daemon keeps serving.
# timeout: 120
. "$(dirname "$0")/common.sh"
P=$BOOTD_TOOLS/pxeprobe
[ -x "$P" ] || skip "pxeprobe not built"

# bootd answers a client only for its own MAC (the frame's source is the
# chaddr), so the client's interface takes on the MAC each probe names.
as_mac() { # NS IFACE ARGS...: the -m MAC in ARGS becomes the interface's
	local ns=$1 dev=$2 mac=52:54:00:aa:bb:01 prev=
	shift 2
	for a in "$@"; do
		[ "$prev" = -m ] && mac=$a
		prev=$a
	done
	if [ "$(ip netns exec "$ns" cat "/sys/class/net/$dev/address")" != "$mac" ]; then
		ip -n "$ns" link set "$dev" address "$mac"
		ip netns exec "$SRV" ip neigh flush all
	fi
}
probe() {
	as_mac "$CLI" bc0 "$@"
	ip netns exec "$CLI" "$P" -i bc0 "$@"
}
expect() { # DESCRIPTION PATTERN -- probe args
	local what=$1 pat=$2
	shift 3
	local out
	out=$(probe "$@") || fail "$what: no reply"
	echo "$what: $out"
	echo "$out" | grep -q -- "$pat" || fail "$what: expected '$pat' in: $out"
}

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 300"
bootd_net
bootd_start

U=http://10.77.0.1:8067
expect "BIOS (arch 0)" "type=OFFER yiaddr=10.77.0.1[0-9][0-9] siaddr=10.77.0.1 file=undionly.kpxe sid=10.77.0.1" \
	-- -m 52:54:00:aa:00:00 -a 0 -V PXEClient:Arch:00000:UNDI:002001
expect "x64 UEFI (arch 7)" "siaddr=10.77.0.1 file=ipxe.efi " -- -m 52:54:00:aa:00:07 -a 7 -V PXEClient:Arch:00007:UNDI:003016
expect "x64 UEFI (arch 9)" "siaddr=10.77.0.1 file=ipxe.efi " -- -m 52:54:00:aa:00:09 -a 9 -V PXEClient:Arch:00009:UNDI:003016
expect "UEFI HTTP (arch 16)" "file=$U/tftp/ipxe.efi sid=10.77.0.1 vendor=HTTPClient" \
	-- -m 52:54:00:aa:00:16 -a 16 -V HTTPClient:Arch:00016:UNDI:003016
expect "iPXE (BIOS)" "file=$U/boot.ipxe " -- -m 52:54:00:aa:00:00 -a 0 -u iPXE -V PXEClient:Arch:00000:UNDI:002001
expect "iPXE (UEFI)" "file=$U/boot.ipxe " -- -m 52:54:00:aa:00:07 -a 7 -u iPXE
# Events: firmware DHCP is ipxe=0 with its arch; iPXE soon after is not a new boot.
sleep 1.5
ev=$(events_of 52:54:00:aa:00:07) || fail "cannot read the events of 52:54:00:aa:00:07"
echo "$ev" | grep -q "dhcp.*arch=7 ipxe=0" || fail "no firmware dhcp event: $ev"
ipxe_ev=$(echo "$ev" | grep "dhcp.*arch=7 ipxe=1") || fail "no iPXE dhcp event: $ev"
case $ipxe_ev in *newboot*) fail "iPXE right after firmware counted as a new boot: $ipxe_ev" ;; esac
# The unknown PXE machines were registered (unassigned).
fb -c "$CONF" machine list | grep -q 52-54-00-aa-00-16 || fail "unknown machine not registered"

# RFC 2131 paths: SELECTING, INIT-REBOOT for a foreign address (NAK), a
# REQUEST naming another server (silence), DECLINE (never offered again).
out=$(probe -m 52:54:00:aa:00:60) || fail "no offer"
ip60=$(echo "$out" | sed -n 's/.*yiaddr=\([0-9.]*\).*/\1/p')
expect "SELECTING" "type=ACK yiaddr=$ip60 " -- -m 52:54:00:aa:00:60 -t request -r "$ip60" -S 10.77.0.1
expect "INIT-REBOOT, foreign address" "type=NAK yiaddr=0.0.0.0" -- -m 52:54:00:aa:00:60 -t request -r 192.168.5.5
probe -m 52:54:00:aa:00:61 -t request -r 10.77.0.140 -S 10.77.0.99 -w 500 -q ||
	fail "answered a REQUEST meant for another server"
probe -m 52:54:00:aa:00:60 -t decline -r "$ip60" -S 10.77.0.1 -w 300 -q || fail "answered a DECLINE"
out=$(probe -m 52:54:00:aa:00:60) || fail "no offer after DECLINE"
echo "after decline: $out"
echo "$out" | grep -q "yiaddr=$ip60 " && fail "declined address offered again"
grep -q "declined $ip60" "$T/bootd.log" || fail "DECLINE not logged"

# Bad input: every kind is dropped without a reply; bootd keeps serving.
for g in short cookie overrun nolen huge badtype zero; do
	probe -m 52:54:00:aa:00:01 -a 0 -V PXEClient -g $g -w 300 -q || fail "reply to garbage '$g'"
done
grep -q "malformed DHCP packet" "$T/bootd.log" || fail "malformed packets were not logged"
bootd_alive
expect "after garbage" "file=undionly.kpxe" -- -m 52:54:00:aa:00:00 -a 0 -V PXEClient
bootd_stop

# Proxy mode on two interfaces: each answer carries the address of the
# interface it came in on (server identifier and next-server).
sed -i 's/^dhcp = .*/dhcp = proxy/; s/^interface = bs0$/interface = bs0,bs1/' "$CONF"
ns_new CLI2 cli2
ip link add bs1 netns "$SRV" type veth peer name bc1 netns "$CLI2"
ip -n "$SRV" addr add 10.78.0.1/24 dev bs1
ip -n "$SRV" link set bs1 up
ip -n "$CLI2" link set bc1 up
bootd_start
as_mac "$CLI2" bc1 -m 52:54:00:aa:00:40
out=$(ip netns exec "$CLI2" "$P" -i bc1 -m 52:54:00:aa:00:40 -a 0 -V PXEClient) || fail "no answer on the second interface"
echo "second interface: $out"
echo "$out" | grep -q "siaddr=10.78.0.1 file=undionly.kpxe sid=10.78.0.1 .*from=10.78.0.1:67" ||
	fail "second interface answered with the wrong server address: $out"
ip -n "$CLI" addr add 10.77.0.9/24 dev bc0
expect "proxy DISCOVER" "type=OFFER yiaddr=0.0.0.0 siaddr=10.77.0.1 file=undionly.kpxe sid=10.77.0.1 vendor=PXEClient .*guid=1" \
	-- -m 52:54:00:aa:00:00 -a 0 -V PXEClient:Arch:00000:UNDI:002001
expect "proxy 4011 REQUEST" "type=ACK yiaddr=0.0.0.0 siaddr=10.77.0.1 file=ipxe.efi .*from=10.77.0.1:4011" \
	-- -m 52:54:00:aa:00:07 -a 7 -V PXEClient:Arch:00007 -t request -s 10.77.0.1 -p 4011
expect "proxy iPXE" "yiaddr=0.0.0.0 .*file=$U/boot.ipxe" -- -m 52:54:00:aa:00:00 -a 0 -u iPXE -V PXEClient
probe -m 52:54:00:aa:00:20 -w 500 -q || fail "proxy answered a plain DHCP client"
probe -m 52:54:00:aa:00:20 -t request -w 500 -q || fail "proxy answered a REQUEST on 67"
bootd_stop

sed -i 's/^\[bootd\]/[bootd]\nunknown_machines = ignore/' "$CONF"
bootd_start
probe -m 52:54:00:aa:00:30 -a 0 -V PXEClient -w 500 -q || fail "unknown machine answered with unknown_machines = ignore"
fb -c "$CONF" machine add 52:54:00:aa:00:31 --image menu >/dev/null
sleep 1.5
expect "known machine, ignore mode" "file=undionly.kpxe" -- -m 52:54:00:aa:00:31 -a 0 -V PXEClient
bootd_stop

# unknown_machines = boot:IMAGE registers the machine with that image.
sed -i 's/^unknown_machines = .*/unknown_machines = boot:demo@2/' "$CONF"
bootd_start
expect "unknown machine, boot:IMAGE" "file=undionly.kpxe" -- -m 52:54:00:aa:00:50 -a 0 -V PXEClient
wait_for 5 sh -c "'$FB_BIN/fleetboot' -c '$CONF' machine show 52:54:00:aa:00:50 --json | grep -q '\"image\": *\"demo@2\"'" ||
	fail "boot:IMAGE did not register the machine with its image: $(fb -c "$CONF" machine show 52:54:00:aa:00:50 --json)"
bootd_stop
echo pass
