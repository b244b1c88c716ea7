#!/bin/sh
# dracut cmdline hook: a fleetboot.root parameter makes this a fleetboot
# network boot. dracut's network module brings the interface up (ip=dhcp)
# and then runs /sbin/netroot, which calls /sbin/fleetbootroot for a
# netroot of the form fleetboot:... (init exports root and netroot to it).
# shellcheck source=initramfs/fleetboot-cmdline.sh
. /lib/fleetboot/fleetboot-cmdline.sh
read -r fb_cmd </proc/cmdline
fb_cmdline_parse "$fb_cmd"
case $? in
1) ;;
2)
	echo "FLEETBOOT-BOOT-FAILED: bad kernel command line: $FB_ERROR" >/dev/console 2>/dev/null
	die "fleetboot: bad kernel command line: $FB_ERROR"
	;;
0)
	[ -z "$FB_WARN" ] || warn "fleetboot: $FB_WARN"
	# shellcheck disable=SC2034 # read by dracut
	root=fleetboot
	# shellcheck disable=SC2034
	rootok=1
	netroot=fleetboot:$FB_ROOT
	echo "rd.neednet=1" >/etc/cmdline.d/90fleetboot.conf
	# shellcheck disable=SC2154 # hookdir is dracut's
	echo '[ -e /tmp/fleetboot.done ]' >"$hookdir/initqueue/finished/fleetboot.sh"
	info "fleetboot: machine $FB_MACHINE, mode $FB_MODE, root $FB_ROOT"
	export netroot
	;;
esac
