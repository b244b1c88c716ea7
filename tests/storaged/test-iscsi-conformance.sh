#!/usr/bin/env bash
# libiscsi's conformance suite against the target: iscsi-test-cu
# --dataloss --test=ALL must run 200+ tests with 0 failures. tgt (the Linux
# SCSI target framework, same file backing) runs the same suite in the same
# namespace for a side-by-side figure; its failures are reported, not gated.
# shellcheck disable=SC2119
# timeout: 300
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-iscsi.sh
. "$(dirname "$0")/lib-iscsi.sh"
requires iscsi-test-cu
it_setup
it_start

summary() { # LOG -> "ran passed failed"
	awk '/^ *tests/ {print $3, $4, $5; exit}' "$1"
}

in_cli timeout 240 iscsi-test-cu --dataloss --test=ALL "$(it_url "$A" "$SA")" >"$T/cu.log" 2>&1
read -r ran passed failed <<<"$(summary "$T/cu.log")"
grep -B2 -A6 "FAILED$" "$T/cu.log" | head -60
echo "fleetboot target: ran ${ran:-?}, passed ${passed:-?}, failed ${failed:-?}"
[ -n "${ran:-}" ] || { tail -30 "$T/cu.log"; fail "iscsi-test-cu did not finish"; }
[ "$ran" -ge 200 ] || fail "only $ran tests ran"
[ "$failed" = 0 ] || fail "$failed conformance failures"
kill -0 "$(cat "$T/target-3260.pid")" || fail "target died"
it_san_check

# tgt side by side (optional: FB_ISCSI_TGT=0 skips it).
if [ "${FB_ISCSI_TGT:-1}" = 1 ] && command -v tgtd >/dev/null && command -v tgtadm >/dev/null; then
	cp=$((($$ % 10000) + 10000)) # private control socket: no clash with other tgtd
	truncate -s 32M "$T/tgt.img"
	ip netns exec "$SRV" tgtd -f -C "$cp" --iscsi portal=10.79.1.1:3262 >"$T/tgtd.log" 2>&1 &
	echo $! >"$T/tgtd.pid"
	kill_at_exit "$T/tgtd.pid"
	tadm() { ip netns exec "$SRV" tgtadm -C "$cp" --lld iscsi "$@"; }
	if wait_for 10 tadm --op show --mode target; then
		tadm --op new --mode target --tid 1 -T "$IQN:$A"
		tadm --op new --mode logicalunit --tid 1 --lun 1 -b "$T/tgt.img"
		tadm --op bind --mode target --tid 1 -I ALL
		tadm --op new --mode account --user "$A" --password "$SA"
		tadm --op bind --mode account --tid 1 --user "$A"
		in_cli timeout 240 iscsi-test-cu --dataloss --test=ALL \
			"iscsi://$A%$SA@10.79.1.1:3262/$IQN:$A/1" >"$T/cu-tgt.log" 2>&1
		read -r tran tpassed tfailed <<<"$(summary "$T/cu-tgt.log")"
		echo "tgt $(tgtd --version 2>/dev/null | head -n 1): ran ${tran:-?}, passed ${tpassed:-?}, failed ${tfailed:-?}"
	else
		echo "tgt: tgtd did not start; side-by-side skipped"
	fi
fi
echo ok
