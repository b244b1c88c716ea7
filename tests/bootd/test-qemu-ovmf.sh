#!/usr/bin/env bash
# The real firmware-PXE to iPXE handoff: an OVMF (UEFI) guest without an
# iPXE option ROM does DHCP with its own PXE client (arch 7), fetches
# ipxe.efi from bootd over TFTP, and the iPXE it starts DHCPs again
# (user-class iPXE, so no chainload loop) and fetches /boot/<mac>.ipxe
# over HTTP. bootd runs authoritative here. Stops once the script is served.
# timeout: 300
. "$(dirname "$0")/common.sh"
requires qemu-system-x86_64
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f $CODE ] && [ -f $VARS ] || skip "OVMF is not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun"

MAC=52:54:00:12:34:57
bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600"
sed -i 's/^interface = bs0/interface = tap0/' "$CONF"
make_image tiny 200000
fb -c "$CONF" machine add $MAC --image tiny >/dev/null || fail "machine add"
ns_new SRV srv
ip -n "$SRV" tuntap add dev tap0 mode tap
ip -n "$SRV" addr add $SRV_IP/24 dev tap0
ip -n "$SRV" link set tap0 up
bootd_start
cp $VARS "$T/vars.fd"

ip netns exec "$SRV" timeout 250 qemu-system-x86_64 -accel tcg -m 512 -display none \
	-serial file:"$T/serial.log" -no-reboot \
	-drive if=pflash,format=raw,unit=0,readonly=on,file=$CODE \
	-drive if=pflash,format=raw,unit=1,file="$T/vars.fd" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,mac=$MAC,romfile=,bootindex=1 >"$T/qemu.log" 2>&1 &
echo $! >"$T/qemu.pid"
kill_at_exit "$T/qemu.pid"

got=0
for _ in $(seq 240); do
	if events_of $MAC | grep -q ipxe-script; then
		got=1
		break
	fi
	kill -0 "$(cat "$T/qemu.pid")" 2>/dev/null || break
	sleep 1
done
events_of $MAC
[ $got = 1 ] || fail "the guest never fetched its script; serial: $(tail -c 600 "$T/serial.log")"
ev=$(events_of $MAC)
echo "$ev" | grep -q "dhcp .*arch=7 ipxe=0" || fail "no firmware DHCP (arch 7, ipxe=0)"
echo "$ev" | grep -q "tftp .*file=ipxe.efi" || fail "no TFTP event for ipxe.efi"
echo "$ev" | grep -q "dhcp .*arch=7 ipxe=1" || fail "no iPXE DHCP"
echo "$ev" | grep "ipxe=1" | grep -q newboot && fail "iPXE after the firmware counted as a new boot"
bootd_alive
[ -n "${KEEP_SERIAL:-}" ] && { cp "$T/serial.log" /tmp/ovmf-serial.log; cp "$T/bootd.log" /tmp/ovmf-bootd.log; }
echo pass
