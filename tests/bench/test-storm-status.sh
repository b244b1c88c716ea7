#!/usr/bin/env bash
# tests/bench/test-storm-status.sh - bench/storm.sh's exit status says
# whether fleetboot booted every machine and whether the run itself worked,
# never how the peer stack did: a storm of 3 machines whose peer-stack run
# loses every machine exits 0 (the peer's 3 failed machines are in the
# table), one where fleetboot loses them exits 1, and one whose peer-stack
# run breaks (stormgen cannot run: exit 2) exits non-zero. The failures are
# made by a wrapper around stormgen (FB_STORM_GEN) that expects another
# PXE boot file for the run it is told to break, so those machines fail at
# PXE DHCP.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
requires_root
gen=$FB_BIN/../bench/stormgen
[ -x "$gen" ] || skip "stormgen is not built"
for c in dnsmasq nginx nbdkit wrk; do
	command -v $c >/dev/null || skip "no $c (the peer stack)"
done
T=$(tmpdir_new)
cat >"$T/gen" <<EOF
#!/bin/sh
# stormgen, with the run named in \$FB_TEST_BREAK (its CSV file's name)
# made to lose its machines or to be broken (exit 2).
case "\$*" in
*"/\$FB_TEST_BREAK.csv"*)
	[ "\$FB_TEST_HOW" = broken ] && { echo "stormgen: broken on purpose" >&2; exit 2; }
	exec "$gen" "\$@" -f nosuchfile ;;
esac
exec "$gen" "\$@"
EOF
chmod +x "$T/gen"

storm() { # BREAK HOW PEER
	FB_TEST_BREAK=$1 FB_TEST_HOW=$2 FB_STORM_PEER=$3 FB_STORM_GEN=$T/gen FB_STORM_N=3 \
		FB_STORM_THINK=0 FB_STORM_HOLD=0 bash "$FB_TOP/bench/storm.sh" >"$T/out" 2>&1
	rc=$?
	[ $rc = 77 ] && skip "bench/storm.sh skipped: $(tail -n 1 "$T/out")"
	grep '^result:\|^failed machines\|^summary' "$T/out"
}

echo "== the peer stack loses its machines: exit 0, its failures in the table"
storm peer lose 1
[ $rc = 0 ] || { tail -n 30 "$T/out"; fail "storm.sh exited $rc for the peer stack's failures"; }
grep -Eq '^failed machines +0 +3 ' "$T/out" || { cat "$T/out"; fail "the table does not show fleetboot 0, peer 3 failed"; }
grep -q '^result: fleetboot booted all 3 machines; the peer stack lost 3' "$T/out" ||
	fail "no result line for the peer's failures"

echo "== fleetboot loses its machines: exit 1"
storm fleetboot lose 0
[ $rc = 1 ] || { tail -n 30 "$T/out"; fail "storm.sh exited $rc, not 1, when fleetboot lost its machines"; }
grep -q '^result: FAILED: fleetboot lost 3 of 3 machines' "$T/out" || fail "no result line for fleetboot's failures"

echo "== the peer stack's run is broken (stormgen exits 2): non-zero"
storm peer broken 1
[ $rc != 0 ] || { tail -n 30 "$T/out"; fail "storm.sh exited 0 for a broken run"; }
grep -q '^result: FAILED: a broken run' "$T/out" || fail "no result line for the broken run"
echo "ok: exit 0 for the peer's failures, 1 for fleetboot's, $rc for a broken run"
