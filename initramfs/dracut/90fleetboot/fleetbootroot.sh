#!/bin/sh
# /sbin/fleetbootroot NETIF NETROOT NEWROOT - dracut's netroot handler for
# fleetboot: attach the root over NBD or iSCSI, mount it at NEWROOT (RAM
# overlay in readonly mode, local install in install mode), report the
# stage, set hostname and machine-id.
# shellcheck source=initramfs/fleetboot-cmdline.sh
. /lib/fleetboot/fleetboot-cmdline.sh
# shellcheck source=initramfs/fleetboot-lib.sh
. /lib/fleetboot/fleetboot-lib.sh

netif=$1
newroot=${3:-/sysroot}
[ -e /tmp/fleetboot.done ] && exit 0
read -r fb_cmd </proc/cmdline
fb_cmdline_parse "$fb_cmd" || fb_rescue "bad kernel command line: $FB_ERROR"
# dracut's DHCP client leaves the lease in /tmp/net.IF.dhcpopts or
# /tmp/dhclient.IF.dhcpopts; take the host name from there when given.
for f in "/tmp/net.$netif.dhcpopts" "/tmp/dhclient.$netif.dhcpopts"; do
	[ -r "$f" ] || continue
	fb_h=$(sed -n "s/^new_host_name='\{0,1\}\([^']*\)'\{0,1\}$/\1/p" "$f")
	[ -z "$fb_h" ] || { mkdir -p "$FB_RUN"; echo "$fb_h" >"$FB_RUN/hostname"; }
done
# dracut's dhclient-script gives the address the lease's lifetime, and
# dhclient is stopped before switch_root: the kernel would drop the
# address (and with it the root's connection) when the lease runs out.
# The booted system keeps it for good, as after initramfs-tools's ipconfig.
ip -4 -o addr show dev "$netif" 2>/dev/null | while read -r _ _ _ fb_a _; do
	ip addr change "$fb_a" brd + dev "$netif" valid_lft forever preferred_lft forever ||
		fb_log "warning: cannot make $fb_a on $netif permanent"
done
fb_log "network: $netif up ($(ip -4 -o addr show dev "$netif" 2>/dev/null | awk '{ print $4 }'))"
fb_attach_root || fb_rescue "$FB_ERROR"
fb_log "root attached: $FB_ROOT_DEV"
fb_report root-attached
if [ "$FB_MODE" = install ]; then
	fb_install || fb_rescue "$FB_ERROR"
	sync
	reboot -f
fi
fb_mount_root "$newroot" || fb_rescue "$FB_ERROR"
fb_personalize "$newroot"
fb_forget_credential
: >/tmp/fleetboot.done
exit 0
