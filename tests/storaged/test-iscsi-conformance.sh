#!/usr/bin/env bash
# libiscsi's conformance suite, iscsi-test-cu -V --dataloss --test=ALL, run
# against four targets, each on a disk of its own that nothing else wrote:
#   fleetboot-plain       fleetboot-iscsi-testtarget serving a plain file
#   fleetboot-persistent  fleetboot-storaged, a persistent machine's overlay
#   fleetboot-ephemeral   fleetboot-storaged, an ephemeral machine's overlay
#   tgt                   the Linux SCSI target framework on a plain file
# CUnit counts a test that skipped because the target lacks a command as
# passed; cu_count.py reads the logs and counts per target the tests run,
# passed, failed, skipped in part and skipped in whole (its header says
# how). The test fails on any failure of a fleetboot target, or when a
# fleetboot target's skips rise above the ceilings below. tgt's figures are
# reported beside them, never gated. Full logs (gzip) and the per-test
# classes go to $FB_ARTIFACTS/iscsi-conformance/.
#
# storaged: the suite logs in with CHAP as the machine (user MACID, secret
# this boot's credential) from the machine's address. storaged checks the
# CHAP name, not the InitiatorName, so the suite's second initiator
# (--initiator-name-2, for the reservation and multi-nexus tests) logs in
# with the same credential as another I_T nexus. The same URL is also
# given as a second path, for the MultipathIO tests (a LUN RESET on one
# path must leave a unit attention on both); FB_CU_MULTIPATH=0 leaves it out.
# shellcheck disable=SC2119
# timeout: 300
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-iscsi.sh
. "$(dirname "$0")/lib-iscsi.sh"
# shellcheck source=tests/storaged/lib-storaged.sh
. "$(dirname "$0")/lib-storaged.sh"

# Ceilings per fleetboot target: "SKIPPED_IN_PART SKIPPED_IN_WHOLE", the
# counts measured when they were set (libiscsi 1.19.0). Lower them as the
# target learns commands; a rise fails the test. tgt 1.0.85 in the same
# run: 17 in part, 47 in whole, 9 failures (with the second path).
CEIL_PLAIN="9 37"
CEIL_PERSISTENT="9 37"
CEIL_EPHEMERAL="9 37"

requires iscsi-test-cu gzip
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
count=$(dirname "$0")/cu_count.py
/usr/bin/python3 "$count" --self-check || fail "cu_count.py miscounts its recorded sample"

L=$(tmpdir_new)
out=$FB_ARTIFACTS/iscsi-conformance
rm -rf "$out"
mkdir -p "$out"
rows=() problems=()

# run_cu NAME URL RUNNER...: the suite against URL, run by RUNNER (a
# namespace wrapper); its counts go into the table, its log to artifacts.
run_cu() {
	local name=$1 url=$2 log=$L/cu-$1.log t0=$SECONDS rc mp=()
	shift 2
	[ "${FB_CU_MULTIPATH:-1}" = 1 ] && mp=("$url")
	"$@" timeout 60 iscsi-test-cu -V --dataloss --test=ALL "$url" "${mp[@]}" >"$log" 2>&1
	rc=$?
	gzip -c "$log" >"$out/cu-$name.log.gz"
	if /usr/bin/python3 "$count" --tests "$log" >"$out/cu-$name.tests" 2>"$L/err" &&
		counts=$(/usr/bin/python3 "$count" "$log" 2>"$L/err"); then
		rows+=("$name $counts $((SECONDS - t0))s")
	else
		counts=
		rows+=("$name - - - - - $((SECONDS - t0))s")
		echo "$name: $(cat "$L/err") (iscsi-test-cu exit $rc); its last lines:"
		tail -n 15 "$log"
	fi
}

# gate NAME "PART WHOLE": the fleetboot target NAME's counts (in $counts,
# from run_cu) against its ceilings.
gate() {
	local name=$1 run failed part whole cpart cwhole
	read -r cpart cwhole <<<"$2"
	if [ -z "$counts" ]; then
		problems+=("$name: no complete count (see above)")
		return
	fi
	read -r run _ failed part whole <<<"$counts"
	[ "$run" -ge 200 ] || problems+=("$name: only $run tests ran")
	if [ "$failed" != 0 ]; then
		problems+=("$name: $failed failed")
		awk -v n="$name" '$2 == "failed" && ++k <= 10 {print "  " n ": " $1 " failed"}
			END {if (k > 10) print "  " n ": and " k - 10 " more"}' "$out/cu-$name.tests"
	fi
	[ "$part" -le "$cpart" ] ||
		problems+=("$name: $part tests skipped in part, ceiling $cpart")
	[ "$whole" -le "$cwhole" ] ||
		problems+=("$name: $whole tests skipped in whole, ceiling $cwhole")
	if [ "$part" -lt "$cpart" ] || [ "$whole" -lt "$cwhole" ]; then
		echo "$name: skips $part/$whole are below the ceiling $cpart/$cwhole: lower it"
	fi
	return 0
}

echo "== fleetboot-plain (fleetboot-iscsi-testtarget, plain file)"
it_setup
it_start
run_cu fleetboot-plain "$(it_url "$A" "$SA")" in_cli
gate fleetboot-plain "$CEIL_PLAIN"
kill -0 "$(cat "$T/target-3260.pid")" || problems+=("fleetboot-plain: the target died")
it_san_check
cp "$T/target-3260.log" "$out/target-plain.log"

# tgt side by side on the same namespaces (FB_ISCSI_TGT=0 leaves it out).
tgt_note="not run (FB_ISCSI_TGT=0)"
if [ "${FB_ISCSI_TGT:-1}" = 1 ] && command -v tgtd >/dev/null && command -v tgtadm >/dev/null; then
	echo "== tgt $(tgtd --version 2>/dev/null | head -n 1)"
	cp=$((($$ % 10000) + 10000)) # private control socket: no clash with other tgtd
	truncate -s 32M "$T/tgt.img"
	ip netns exec "$SRV" tgtd -f -C "$cp" --iscsi portal=10.79.1.1:3262 >"$T/tgtd.log" 2>&1 &
	echo $! >"$T/tgtd.pid"
	kill_at_exit "$T/tgtd.pid"
	tadm() { ip netns exec "$SRV" tgtadm -C "$cp" --lld iscsi "$@"; }
	if wait_for 10 tadm --op show --mode target; then
		if ! { tadm --op new --mode target --tid 1 -T "$IQN:$A" &&
			tadm --op new --mode logicalunit --tid 1 --lun 1 -b "$T/tgt.img" &&
			tadm --op bind --mode target --tid 1 -I ALL &&
			tadm --op new --mode account --user "$A" --password "$SA" &&
			tadm --op bind --mode account --tid 1 --user "$A"; }; then
			fail "tgtadm could not set up the tgt target"
		fi
		run_cu tgt "iscsi://$A%$SA@10.79.1.1:3262/$IQN:$A/1" in_cli
		awk '$2 == "failed" {print "  tgt (not gated): " $1 " failed"}' "$out/cu-tgt.tests"
		tgt_note=
	else
		tgt_note="not run: tgtd did not start"
	fi
	kill "$(cat "$T/tgtd.pid")" 2>/dev/null
else
	command -v tgtd >/dev/null || tgt_note="not run: tgtd is not installed"
fi
kill "$(cat "$T/target-3260.pid")" 2>/dev/null

echo "== fleetboot-storaged: a persistent and an ephemeral machine"
sd_setup
P=52-54-00-c7-00-01 E=52-54-00-c7-00-02
fb machine add $P --image base --mode persistent --protocol iscsi --ip 10.77.1.11 >/dev/null ||
	fail "add the persistent machine"
fb machine add $E --image base --mode ephemeral --protocol iscsi --ip 10.77.2.11 >/dev/null ||
	fail "add the ephemeral machine"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.11
sd_start_iscsi
run_cu fleetboot-persistent "iscsi://$P%$(cred_of $P)@10.77.1.1:3260/$ISCSI_IQN:$P/0" in_client 1
gate fleetboot-persistent "$CEIL_PERSISTENT"
run_cu fleetboot-ephemeral "iscsi://$E%$(cred_of $E)@10.77.2.1:3260/$ISCSI_IQN:$E/0" in_client 2
gate fleetboot-ephemeral "$CEIL_EPHEMERAL"
kill -0 "$SD_PID" || problems+=("fleetboot-storaged died")
sd_stop
cp "$SD_LOG" "$out/storaged.log"
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$SD_LOG"; then
	problems+=("sanitizer report in the storaged log")
fi
# Each run wrote its own machine's overlay, and only that.
for m in $P $E; do
	[ -s "$T/state/overlays/$m.ovl" ] || problems+=("no overlay of $m after its run")
done

echo
printf '%-21s | %4s | %6s | %6s | %13s | %14s | %s\n' target run passed failed \
	"skipped(part)" "skipped(whole)" time
for r in "${rows[@]}"; do
	# shellcheck disable=SC2086 # one row: seven words
	printf '%-21s | %4s | %6s | %6s | %13s | %14s | %s\n' $r
done
[ -n "$tgt_note" ] && printf '%-21s | %s\n' tgt "$tgt_note"
echo "per-test classes and full logs: $out"

# The issue's goal: fewer tests skipped in part than tgt (reported, not
# gated until the missing commands are in).
for r in "${rows[@]}"; do
	read -r name _ _ _ part _ _ <<<"$r"
	[ "$name" = tgt ] && tgt_part=$part
done
if [ -n "${tgt_part:-}" ] && [ "$tgt_part" != - ]; then
	for r in "${rows[@]}"; do
		read -r name _ _ _ part _ _ <<<"$r"
		case $name in fleetboot-*) [ "$part" != - ] &&
			echo "$name skips $part in part, tgt $tgt_part: $([ "$part" -lt "$tgt_part" ] &&
				echo fewer || echo "not fewer")" ;;
		esac
	done
fi

if [ ${#problems[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
echo ok
