# tests/storaged/lib-iscsi.sh - helpers for the iSCSI target tests. Source
# after tests/lib.sh.
#
#   it_setup            server namespace $SRV (10.79.1.1) and client
#                       namespace $CLI (10.79.1.2) joined by a veth pair;
#                       scratch dir $T; machines $A and $B with secrets
#                       $SA and $SB and 32 MiB disks $T/a.img, $T/b.img
#   it_start [ARGS]     run fleetboot-iscsi-testtarget for A and B on
#                       10.79.1.1:${PORT:-3260} (extra ARGS passed on)
#   it_url MAC SECRET   iscsi:// URL of MAC's LUN 0
#   in_cli CMD...       run CMD in the client namespace
#   it_san_check        fail if a sanitizer reported anything in the logs
# shellcheck shell=bash

A=52-54-00-1c-00-0a
B=52-54-00-1c-00-0b
SA=0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a
SB=0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b
IQN=iqn.2026-11.org.fleetboot

it_setup() {
	requires_root
	[ -x "$FB_BIN/fleetboot-iscsi-testtarget" ] || skip "fleetboot-iscsi-testtarget not built"
	T=$(tmpdir_new)
	SRV=$(netns_new isrv)
	CLI=$(netns_new icli)
	ip link add "is$$" netns "$SRV" type veth peer name eth0 netns "$CLI" || fail "veth"
	ip -n "$SRV" addr add 10.79.1.1/24 dev "is$$"
	ip -n "$SRV" link set "is$$" up
	ip -n "$CLI" addr add 10.79.1.2/24 dev eth0
	ip -n "$CLI" link set eth0 up
	truncate -s 32M "$T/a.img" "$T/b.img"
}

it_start() {
	local port=${PORT:-3260} log=$T/target-${PORT:-3260}.log pidf=$T/target-${PORT:-3260}.pid
	ip netns exec "$SRV" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1" \
		"$FB_BIN/fleetboot-iscsi-testtarget" -f -v -l 10.79.1.1 -p "$port" -P "$pidf" \
		-m "$A:$SA:$T/a.img" -m "$B:$SB:$T/b.img" "$@" >>"$log" 2>&1 &
	san_watch "$log"
	kill_at_exit "$pidf"
	wait_for 20 test -s "$pidf" || { cat "$log"; fail "target did not start"; }
}

it_url() { echo "iscsi://$1%$2@10.79.1.1:${PORT:-3260}/$IQN:$1/0"; }

in_cli() { ip netns exec "$CLI" "$@"; }

it_san_check() {
	if grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|ERROR: UndefinedBehaviorSanitizer|runtime error:" "$T"/target-*.log; then
		fail "sanitizer report in the target log"
	fi
}
