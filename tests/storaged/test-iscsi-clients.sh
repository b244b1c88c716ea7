#!/usr/bin/env bash
# The iSCSI target with real clients in network namespaces: discovery
# (iscsi-ls) lists only the authenticated machine's own target; a wrong
# CHAP secret, another machine's target, and a refused peer address are
# all refused and logged; iscsi-inq reads the standard and VPD pages;
# qemu-img/qemu-io read and write over iscsi:// and the data lands in the
# served file (and only in that machine's file).
# timeout: 240
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-iscsi.sh
. "$(dirname "$0")/lib-iscsi.sh"
requires iscsi-ls iscsi-inq qemu-img qemu-io
it_setup
it_start
LOG=$T/target-3260.log

echo "== discovery shows only the asker's target"
out=$(in_cli timeout 20 iscsi-ls -s "iscsi://$A%$SA@10.79.1.1/") || fail "iscsi-ls as A: $out"
echo "$out"
echo "$out" | grep -q "Target:$IQN:$A Portal:10.79.1.1:3260,1" || fail "A's target not listed"
echo "$out" | grep -q "$B" && fail "B's target listed to A"
echo "$out" | grep -q "Lun:0 *Type:DIRECT_ACCESS (Size:31M)" || fail "LUN 0 not shown"
out=$(in_cli timeout 20 iscsi-ls "iscsi://$B%$SB@10.79.1.1/") || fail "iscsi-ls as B"
echo "$out" | grep -q "$IQN:$B" || fail "B's target not listed to B"
echo "$out" | grep -q "$A" && fail "A's target listed to B"

echo "== refusals"
# refused LOG PATTERN WHAT CMD...: CMD (from the client) fails for the
# target's logged reason.
refused() {
	local log=$1 pattern=$2 what=$3
	shift 3
	refused_for "$log" "$pattern" "$what" in_cli timeout 20 "$@"
}
refused "$LOG" "refused: wrong CHAP secret" "discovery with a wrong secret" \
	iscsi-ls "iscsi://$A%${SB}@10.79.1.1/"
refused "$LOG" "refused: CHAP authentication required\|refused: initiator does not offer CHAP" \
	"discovery without CHAP" iscsi-ls "iscsi://10.79.1.1/"
refused "$LOG" "refused: wrong CHAP secret" "login with a wrong secret" iscsi-inq "$(it_url "$A" "$SB")"
# A's credentials for B's target.
refused "$LOG" "refused: CHAP name is not this target's machine" "A's login to B's target" \
	iscsi-inq "iscsi://$A%$SA@10.79.1.1/$IQN:$B/0"
refused "$LOG" "refused: unknown machine" "a login to an unknown machine" \
	iscsi-inq "iscsi://$A%$SA@10.79.1.1/$IQN:52-54-00-00-00-99/0"
# A second target that accepts only the peer 10.79.1.99 (require_lease_ip).
PORT=3261 it_start -a 10.79.1.99
refused "$T/target-3261.log" "refused: peer address not allowed" \
	"a login from a peer address not leased to the machine" iscsi-inq "$(PORT=3261 it_url "$A" "$SA")"

echo "== iscsi-inq"
url=$(it_url "$A" "$SA")
out=$(in_cli timeout 20 iscsi-inq "$url") || fail "iscsi-inq: $out"
echo "$out" | grep -q "Vendor:FLEETBT" || fail "standard INQUIRY: $out"
out=$(in_cli timeout 20 iscsi-inq -e 1 -c 0 "$url") || fail "VPD 0x00"
for p in 128 131 176 177 178; do
	hex=$(printf '0x%02x' $p)
	echo "$out" | grep -qi "Page:$hex" || fail "VPD page $hex not listed: $out"
	in_cli timeout 20 iscsi-inq -e 1 -c $p "$url" >"$T/vpd.txt" 2>&1 || fail "VPD $hex: $(cat "$T/vpd.txt")"
	[ "$(wc -l <"$T/vpd.txt")" -ge 1 ] || fail "VPD $hex: empty"
done
out=$(in_cli timeout 20 iscsi-inq -e 1 -c 176 "$url") || fail "VPD 0xb0: $out"
echo "$out" | grep -q "maximum transfer length:16384" || fail "VPD 0xb0 maximum transfer length: $out"
out=$(in_cli timeout 20 iscsi-inq -e 1 -c 131 "$url") || fail "VPD 0x83: $out"
echo "$out" | grep -q "Designator:\[$IQN:$A\]" || fail "VPD 0x83 without the target name: $out"
echo "$out" | grep -q "Designator Type:(3) NAA" || fail "VPD 0x83 without an NAA designator"

echo "== qemu-io / qemu-img over iscsi://"
# qio_read URL WHAT CMD...: qemu-io runs the read commands CMD... (each
# "read -P PATTERN OFF LEN"); each must read its whole length with the
# pattern verified (qemu-io prints the byte count even when it is not).
qio_read() {
	local url=$1 what=$2 out c args=()
	shift 2
	for c in "$@"; do args+=(-c "$c"); done
	out=$(in_cli timeout 60 qemu-io -f raw "${args[@]}" "$url" 2>&1) || fail "$what: qemu-io failed: $out"
	case $out in *"verification failed"*) fail "$what: $out" ;; esac
	[ "$(printf '%s\n' "$out" | grep -c '^read [0-9]*/[0-9]* bytes')" = $# ] ||
		fail "$what: not every read completed: $out"
}
in_cli timeout 60 qemu-io -f raw -c "write -P 0x5a 1M 2M" -c "flush" "$url" || fail "qemu-io write"
qio_read "$url" "qemu-io read back" "read -P 0x5a 1M 2M" "read -P 0 0 1M"
cmp -s -n 1M -i 1M:0 "$T/a.img" <(head -c 1M /dev/zero | tr '\0' 'Z') ||
	fail "the write did not reach A's file"
cmp -s "$T/b.img" <(head -c 32M /dev/zero) || fail "B's file changed by writes to A"
out=$(in_cli timeout 30 qemu-img info --output=json "$url") || fail "qemu-img info: $out"
size=$(echo "$out" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
assert_eq "$size" 33554432 "qemu-img virtual size"
head -c 8M /dev/urandom >"$T/src.img"
in_cli timeout 60 qemu-img convert -n -f raw -O raw "$T/src.img" "$url" || fail "qemu-img convert to iscsi"
cmp -s -n 8M "$T/src.img" "$T/a.img" || fail "converted data differs in the served file"
in_cli timeout 60 qemu-img convert -f raw -O raw "$url" "$T/back.img" || fail "qemu-img convert from iscsi"
cmp -s "$T/back.img" "$T/a.img" || fail "data read back over iSCSI differs"
# Discard reads back as zeros.
in_cli timeout 60 qemu-io -f raw -c "discard 0 1M" "$url" >"$T/qio.log" 2>&1 ||
	fail "discard: $(cat "$T/qio.log")"
qio_read "$url" "discard then read zeros" "read -P 0 0 1M"

kill "$(cat "$T/target-3260.pid")"
wait_for 10 test ! -e "$T/target-3260.pid" || fail "target did not stop on SIGTERM"
it_san_check
echo "ok"
