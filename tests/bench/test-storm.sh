#!/usr/bin/env bash
# tests/bench/test-storm.sh - the boot-storm benchmark measures real boots:
# a storm of 3 machines through bench/storm.sh gets every machine to
# userspace with no failure, and bootd's own events for a machine show
# the whole boot in order (PXE DHCP, TFTP, iPXE script, kernel, initrd,
# credential, root attached, userspace), so the figures are of boots the
# server counted as such. The peer stack is left out (FB_STORM_PEER=0).
# timeout: 300
. "$(dirname "$0")/../lib.sh"
requires_root
[ -x "$FB_BIN/../bench/stormgen" ] || skip "stormgen is not built"
out=$(FB_STORM_N=3 FB_STORM_THINK=0 FB_STORM_HOLD=0 FB_STORM_PEER=0 \
	bash "$FB_TOP/bench/storm.sh" 2>&1)
rc=$?
echo "$out"
[ $rc = 77 ] && skip "bench/storm.sh skipped"
[ $rc = 0 ] || fail "bench/storm.sh exited $rc"
echo "$out" | grep -q '^summary n=3 ok=3 failed=0 .*last=userspace' ||
	fail "not all 3 machines reached userspace"
ev=$(echo "$out" | sed -n "s/^server's events for machine 0: //p")
echo "$ev" | grep -Eq '^dhcp (.* )?tftp (.* )?ipxe-script (.* )?kernel (.* )?initrd (.* )?credential (.* )?root-attached (.* )?userspace ?$' ||
	fail "bootd's events for machine 0 are not a whole boot: '$ev'"
echo "ok: 3 machines booted; bootd saw: $ev"
