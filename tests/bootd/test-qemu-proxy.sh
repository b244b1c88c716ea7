#!/usr/bin/env bash
# Proxy mode beside a real DHCP server: dnsmasq (addresses only) and bootd
# (dhcp = proxy) on one LAN; a QEMU BIOS guest whose NIC ROM is iPXE gets
# its address from dnsmasq and its boot URL from bootd, and fetches
# /boot/<mac>.ipxe (authorised through the neighbour table, since bootd
# holds no lease for it). Stops once bootd has served the script.
# timeout: 200
. "$(dirname "$0")/common.sh"
requires qemu-system-x86_64 dnsmasq
[ -e /dev/net/tun ] || skip "no /dev/net/tun"

MAC=52:54:00:12:34:56
bootd_env "dhcp = proxy"
sed -i 's/^interface = bs0/interface = br0/' "$CONF"
make_image tiny 200000
fb -c "$CONF" machine add $MAC --image tiny >/dev/null || fail "machine add"

ns_new SRV srv
ns_new DNS dns
ip -n "$SRV" link add br0 type bridge
ip -n "$SRV" addr add $SRV_IP/24 dev br0
ip -n "$SRV" link set br0 up
ip -n "$SRV" tuntap add dev tap0 mode tap
ip -n "$SRV" link set tap0 master br0 up
ip link add dn0 netns "$DNS" type veth peer name dnp netns "$SRV"
ip -n "$SRV" link set dnp master br0 up
ip -n "$DNS" addr add 10.77.0.2/24 dev dn0
ip -n "$DNS" link set dn0 up

ip netns exec "$DNS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
	--interface=dn0 --bind-interfaces --no-ping --dhcp-range=10.77.0.100,10.77.0.150,1h \
	--dhcp-leasefile="$T/dnsmasq.leases" --pid-file="$T/dnsmasq.pid" --log-dhcp --log-facility=- \
	>"$T/dnsmasq.log" 2>&1 &
echo $! >"$T/dnsmasq.pid2"
kill_at_exit "$T/dnsmasq.pid2"
bootd_start

ip netns exec "$SRV" timeout 150 qemu-system-x86_64 -accel tcg -m 256 -display none \
	-serial file:"$T/serial.log" -no-reboot -boot n \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,mac=$MAC >"$T/qemu.log" 2>&1 &
echo $! >"$T/qemu.pid"
kill_at_exit "$T/qemu.pid"

got=0
for _ in $(seq 140); do
	if events_of $MAC | grep -q ipxe-script; then
		got=1
		break
	fi
	kill -0 "$(cat "$T/qemu.pid")" 2>/dev/null || break
	sleep 1
done
events_of $MAC
grep -E "DHCPACK|DHCPOFFER" "$T/dnsmasq.log" | tail -n 3
[ $got = 1 ] || fail "the guest never fetched its script (dnsmasq: $(tail -n 5 "$T/dnsmasq.log"))"
events_of $MAC | grep -q "dhcp .*ipxe=1 newboot=1" || fail "iPXE's DHCP was not recorded as a new boot"
grep -q "DHCPACK.*$MAC" "$T/dnsmasq.log" || fail "the address did not come from dnsmasq"
grep -q "refused the script" "$T/bootd.log" && fail "the guest's own script was refused"
bootd_alive
echo pass
