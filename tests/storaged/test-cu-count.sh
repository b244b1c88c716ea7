#!/usr/bin/env bash
# cu_count.py, which test-iscsi-conformance.sh trusts to count
# iscsi-test-cu's skips, counts its recorded sample (data/cu-sample.log)
# right and refuses logs cut short or at odds with CUnit's summary. No root,
# no network: it runs wherever python3 does.
# timeout: 30
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
count=$(dirname "$0")/cu_count.py
/usr/bin/python3 "$count" --self-check || fail "cu_count.py miscounts its recorded sample"
got=$(/usr/bin/python3 "$count" "$(dirname "$0")/data/cu-sample.log") || fail "count of the sample"
assert_eq "$got" "10 5 2 2 2" "RUN PASSED FAILED SKIP_PART SKIP_WHOLE of the sample"
/usr/bin/python3 "$count" /dev/null 2>/dev/null && fail "an empty log was counted"
echo ok
