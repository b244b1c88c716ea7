#!/usr/bin/env bash
# End to end, scenario 7: proxy mode. dnsmasq in the lab hands out the
# addresses (as the site's existing DHCP server would); bootd, with
# dhcp = proxy, only adds the boot information; the client boots to
# userspace over NBD with require_lease_ip on.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires dnsmasq
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv" dhcp=proxy)
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
lab_image tiny "console=ttyS0 fleetboot.test=write:/data/p:proxy fleetboot.test=check:/data/p:proxy fleetboot.test=poweroff"
MAC=52:54:00:e2:e0:07
fb machine add $MAC --image tiny --mode persistent >/dev/null || fail "machine add"
ip netns exec "$LAB_NS" dnsmasq --no-daemon --port=0 --interface=br0 --bind-interfaces \
	--dhcp-range=10.66.0.50,10.66.0.90,255.255.255.0 --no-ping \
	--dhcp-leasefile="$LAB_DIR/dnsmasq.leases" --log-dhcp >"$LAB_DIR/dnsmasq.log" 2>&1 &
echo $! >"$LAB_DIR/dnsmasq.pid"
cleanup "kill \$(cat '$LAB_DIR/dnsmasq.pid') 2>/dev/null"
lab_up "$CONF" "$LAB_DIR/up.log"
log=$LAB_DIR/proxy.serial
lab_boot proxy $MAC tap0 "$log" bios 300
grep -aq 'FLEETBOOT-TEST check /data/p ok' "$log" || fail "the client could not use its root"
grep -q 'DHCPACK.*52:54:00:e2:e0:07' "$LAB_DIR/dnsmasq.log" || fail "dnsmasq gave no address"
ip=$(sed -n 's/.*DHCPACK(br0) \(10\.66\.0\.[0-9]*\) 52:54:00:e2:e0:07.*/\1/p' "$LAB_DIR/dnsmasq.log" | tail -n 1)
case $ip in 10.66.0.5* | 10.66.0.6* | 10.66.0.7* | 10.66.0.8* | 10.66.0.90) ;; *) fail "address $ip not from dnsmasq's range" ;; esac
lab_assert_events "$CONF" $MAC 'dhcp .*ipxe-script .*kernel .*initrd .*root-attached .*userspace'
echo "scenario 7 passed (client at $ip from dnsmasq)"
