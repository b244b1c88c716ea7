#!/usr/bin/env bash
# Bad input on the iSCSI port: truncated and garbage PDUs, malformed and
# unknown login keys, oversized segments, commands before login,
# out-of-window CmdSN, stray and mis-numbered Data-Out, unknown opcodes,
# SNACK, reads and writes beyond the end, residual counts. Each must get a
# reject, a login failure, CHECK CONDITION, silence or a closed connection
# as the RFC says -- and the target must keep serving (checked with a
# fresh login at the end and a clean sanitizer log).
# shellcheck disable=SC2119
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-iscsi.sh
. "$(dirname "$0")/lib-iscsi.sh"
tool=$FB_BIN/../tests/storaged/iscsi-badclient
[ -x "$tool" ] || skip "iscsi-badclient not built"
it_setup
it_start
in_cli timeout 90 "$tool" 10.79.1.1 3260 "$A" "$SA" || {
	tail -20 "$T/target-3260.log"
	fail "bad-input cases failed"
}
kill -0 "$(cat "$T/target-3260.pid")" || fail "target died"
it_san_check
echo ok
