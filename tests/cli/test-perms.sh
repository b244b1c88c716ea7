#!/usr/bin/env bash
# timeout: 120
# The state tree is the service's alone (DESIGN.md, Security model): after
# `fleetboot init` the state directory is 0750 and the database 0600; an
# install from before (0755, 0644) is tightened by the next init and by the
# next daemon start; what root imports into the service user's tree goes to
# that user; the daemons and nbdkit run with umask 077, and what they write
# (overlays, the database's WAL) is theirs alone; an ordinary user reads
# none of it. The user "daemon" stands in for the service user.
. "$(dirname "$0")/../lib.sh"
. "$FB_TOP/tests/storaged/lib-storaged.sh"
requires setpriv stat qemu-io
getent passwd daemon >/dev/null || skip "no user 'daemon' to stand in for the service user"
getent passwd nobody >/dev/null || skip "no user 'nobody'"
as_service() { setpriv --reuid=daemon --regid="$(id -g daemon)" --clear-groups "$@"; }
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
mode_of() { stat -c '%a %U' "$1"; }
# nobody_refused MSG CMD...: the command, run as nobody, fails for lack of
# permission (not for any other reason, such as setpriv failing).
nobody_refused() {
	local msg=$1 out
	shift
	out=$(as_nobody "$@" 2>&1 >/dev/null) && fail "$msg"
	grep -q "Permission denied" <<<"$out" || fail "$msg: not refused for permission: $out"
}

sd_setup # a root-owned tree made by init, image "base" imported
chmod 711 "$T"
S=$T/state
DB=$S/fleetboot.db

# An install made before the tree was private, then init again as root
# with a service user: the tree goes to that user, closed to others.
chmod 755 "$S"
chmod 644 "$DB"
FLEETBOOT_USER=daemon fb init >"$T/init.log" 2>&1 || fail "init: $(cat "$T/init.log")"
assert_eq "$(mode_of "$S")" "750 daemon" "state directory after init"
assert_eq "$(mode_of "$DB")" "600 daemon" "database after init"
assert_eq "$(mode_of "$S/overlays")" "700 daemon" "overlays after init"

# Root imports into the service user's tree: the daemons can serve it.
fb image import second --rootfs "$T/base.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null || fail "image import as root"
for f in "$S/images/second" "$S/images/second/1" "$S/images/second/1/vmlinuz" \
	"$S/images/second/1/rootfs.img"; do
	assert_eq "$(stat -c %U "$f")" daemon "owner of $f"
done
as_service cat "$S/images/second/1/vmlinuz" >/dev/null || fail "the service user cannot read an imported kernel"
as_service cat "$S/tftp/undionly.kpxe" >/dev/null 2>&1 ||
	[ ! -e "$S/tftp/undionly.kpxe" ] || fail "the service user cannot read the TFTP root"

# An ordinary user reads nothing: not the tree, not the database (even
# with the directory open to it, the file is not).
nobody_refused "an ordinary user lists the state directory" ls "$S"
nobody_refused "an ordinary user reads the database" cat "$DB"
chmod 751 "$S"
nobody_refused "an ordinary user reads the database (0600)" cat "$DB"

# A daemon start tightens an old install too, and what it writes is its own.
chmod 755 "$S"
chmod 644 "$DB"
A=52-54-00-0e-00-01
fb machine add $A --image base --mode persistent --ip 10.77.1.2 >/dev/null || fail "machine add"
sd_net 1 10.77.1.2
sd_start
wait_for 10 grep -q "running as daemon" "$SD_LOG" || fail "storaged did not drop to daemon: $(cat "$SD_LOG")"
wait_for 5 test "$(mode_of "$S")" = "750 daemon"
assert_eq "$(mode_of "$S")" "750 daemon" "state directory after storaged started"
assert_eq "$(mode_of "$DB")" "600 daemon" "database after storaged started"
assert_eq "$(awk '/^Umask:/ {print $2}' "/proc/$SD_PID/status")" 0077 "storaged's umask"
nbdkit_pid=$(pgrep -P "$SD_PID" nbdkit | head -n 1)
[ -n "$nbdkit_pid" ] || fail "no nbdkit under storaged"
assert_eq "$(awk '/^Umask:/ {print $2}' "/proc/$nbdkit_pid/status")" 0077 "nbdkit's umask"
in_client 1 qemu-io -f raw -c 'write -P 0x5a 1M 64k' -c flush "$(sd_uri 1 $A)" >"$T/qio.log" 2>&1 ||
	{ cat "$T/qio.log" "$SD_LOG"; fail "qemu-io write"; }
n=0
while IFS= read -r f; do
	n=$((n + 1))
	assert_eq "$(mode_of "$f")" "600 daemon" "overlay $f"
done < <(find "$S/overlays" -type f)
[ $n -gt 0 ] || fail "no overlay was written"
# The CLI writes as root beside the running daemon: the WAL stays the service's.
fb machine set $A --name perms-test >/dev/null || fail "machine set"
for f in "$DB" "$DB-wal" "$DB-shm"; do
	[ -e "$f" ] || continue
	assert_eq "$(mode_of "$f")" "600 daemon" "$f while storaged runs"
	nobody_refused "an ordinary user reads $f" cat "$f"
done
sd_stop
echo "state tree modes: all checks passed"
