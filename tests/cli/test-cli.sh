#!/usr/bin/env bash
# The fleetboot command end to end on a fresh state dir: the foundation
# issue's "done when", listings in both forms, exit codes, and bad input
# that must leave the database exactly as it was. (What init does with
# the tree when run as root is tests/cli/test-cli-owner.sh.)
. "$(dirname "$0")/../lib.sh"
requires mke2fs cpio sqlite3
T=$(tmpdir_new)
export FLEETBOOT_CONF
FLEETBOOT_CONF=$(fixture_state "$T")
fixture_image "$T"
db=$T/state/fleetboot.db

out=$(fb init) || fail "init: $out"
echo "$out" | grep -q '^web login: admin / [A-Za-z0-9]\{16\}$' || fail "init printed no password: $out"
[ -f "$T/state/tftp/undionly.kpxe" ] || fail "init did not place undionly.kpxe"
[ -f "$T/state/tftp/ipxe.efi" ] || fail "init did not place ipxe.efi"
out=$(fb init) || fail "second init failed"
echo "$out" | grep -q 'already initialised' || fail "second init: $out"
echo "$out" | grep -q 'web login' && fail "second init printed a new password"

fb image import tiny --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	--cmdline "quiet" || fail "import"
fb machine add 52:54:00:12:34:56 --image tiny --mode ephemeral || fail "machine add"
json=$(fb machine list --json) || fail "machine list --json"
echo "$json"
[ "$(echo "$json" | grep -c '"mac": "52-54-00-12-34-56"')" = 1 ] || fail "machine not listed"
echo "$json" | grep -q '"image": "tiny"' || fail "image not shown"
echo "$json" | grep -q '"mode": "ephemeral"' || fail "mode not shown"
fb image verify tiny || fail "verify of an intact image failed"

# Golden listing (no times or hashes in it).
fb machine add 52-54-00-12-34-57 --name pc-2 --image menu --mode readonly --protocol iscsi \
	--ip 10.0.0.57 --group lab || fail "second add"
diff -u - <(fb machine list) <<'G' || fail "machine list table differs"
MAC                NAME  IMAGE  MODE       PROTO  IP         GROUP  STAGE  LAST SEEN
52-54-00-12-34-56  -     tiny   ephemeral  nbd    -          -      -      never
52-54-00-12-34-57  pc-2  menu   readonly   iscsi  10.0.0.57  lab    -      never
G

# Exit codes and one-line errors, with the database unchanged.
db_settle "$db"
before=$(db_sum "$db")
check_err() { # expected-exit expected-message-substring command...
	local want=$1 msg=$2
	shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want ($err)"
	[ "$(printf '%s\n' "$err" | grep -c .)" -ge 1 ] || fail "'$*' printed no error"
	printf '%s\n' "$err" | grep -qF -- "$msg" || fail "'$*': '$err' lacks '$msg'"
}
check_err 1 "is not a MAC address" fb machine add 52:54:00:12:34
check_err 1 "is not a MAC address" fb machine add zz:zz:zz:zz:zz:zz
check_err 1 "already exists" fb machine add 52:54:00:12:34:56
check_err 1 "no ready version of image nope" fb machine add 52:54:00:00:00:01 --image nope
check_err 1 "mode: 'fast'" fb machine add 52:54:00:00:00:01 --mode fast
check_err 1 "protocol: 'aoe'" fb machine add 52:54:00:00:00:01 --protocol aoe
check_err 1 "ip: '10.0.0.300'" fb machine add 52:54:00:00:00:01 --ip 10.0.0.300
check_err 1 "already reserved" fb machine add 52:54:00:00:00:01 --ip 10.0.0.57
check_err 1 "no machine 52-54-00-00-00-09" fb machine show 52:54:00:00:00:09
check_err 1 "no machine" fb machine rm 52:54:00:00:00:09
check_err 2 "unknown option '--colour'" fb machine list --colour
check_err 2 "needs a MAC" fb machine add
check_err 2 "unknown command 'frobnicate'" fb frobnicate
check_err 1 "not a filesystem or disk image" fb image import t2 --rootfs "$T/vmlinuz" \
	--kernel "$T/vmlinuz" --initrd "$T/initrd.img"
check_err 1 "No such file or directory" fb image import t2 --rootfs "$T/missing" \
	--kernel "$T/vmlinuz" --initrd "$T/initrd.img"
check_err 1 "not a Linux kernel image" fb image import t2 --rootfs "$T/root.img" \
	--kernel "$T/initrd.img" --initrd "$T/initrd.img"
check_err 1 "not a valid image name" fb image import ../evil --rootfs "$T/root.img" \
	--kernel "$T/vmlinuz" --initrd "$T/initrd.img"
head -c 1000 "$T/root.img" >"$T/short.img"
check_err 1 "not a multiple of 512" fb image import t2 --rootfs "$T/short.img" \
	--kernel "$T/vmlinuz" --initrd "$T/initrd.img"
check_err 2 "needs --rootfs" fb image import t2
check_err 1 "no image nope@3" fb image show nope@3
printf '[bootd]\nhttp_port = nope\n' >"$T/bad.conf"
check_err 1 "bad.conf:2: http_port" fb -c "$T/bad.conf" machine list
after=$(db_sum "$db")
assert_eq "$after" "$before" "database changed by rejected commands"
# An unwritable state dir (a file where the directory should be).
touch "$T/notadir"
printf '[global]\nstate_dir = %s/notadir/state\n' "$T" >"$T/nd.conf"
check_err 1 "cannot create" fb -c "$T/nd.conf" init
# A command before init says what to do.
printf '[global]\nstate_dir = %s/fresh\n' "$T" >"$T/fresh.conf"
check_err 1 "run 'fleetboot init' first" fb -c "$T/fresh.conf" machine list
# No half-registered version from a failed import: versions list unchanged.
assert_eq "$(fb image list --json | grep -c '"version"')" 1 "image versions"
for f in "$T"/state/images/tiny/.tmp*; do [ -e "$f" ] && fail "temp folder left behind: $f"; done

# Corrupt one byte of the stored rootfs: verify fails and names the file.
dir=$(fb image show tiny --json | sed -n 's/.*"dir": "\(.*\)".*/\1/p')
printf 'X' | dd of="$dir/rootfs.img" bs=1 seek=70000 conv=notrunc 2>/dev/null
err=$(fb image verify tiny 2>&1)
assert_eq "$?" 1 "verify of a changed rootfs"
echo "$err" | grep -q 'rootfs.img MISMATCH' || fail "verify message: $err"

# set, rotate-secret, retire, rm.
old=$(fb machine show 52:54:00:12:34:56 --json | sed -n 's/.*"secret": "\(.*\)".*/\1/p')
fb machine set 52:54:00:12:34:56 --rotate-secret --mode persistent --name pc-1 >/dev/null || fail set
new=$(fb machine show 52:54:00:12:34:56 --json | sed -n 's/.*"secret": "\(.*\)".*/\1/p')
if [ ${#new} != 32 ] || [ "$new" = "$old" ]; then fail "secret not rotated"; fi
fb machine show 52-54-00-12-34-56 | grep -q '^mode: *persistent' || fail "mode not changed"

# machine credential: a boot credential by hand (issue 13), a new one (and
# a new boot) each time, never the long-lived secret.
c1=$(fb machine credential 52:54:00:12:34:56) || fail "machine credential"
c2=$(fb machine credential 52-54-00-12-34-56) || fail "machine credential again"
echo "$c1" | grep -Eqx '[0-9a-f]{32}' || fail "credential printed: '$c1'"
[ "$c1" != "$c2" ] || fail "two credentials by hand are the same"
[ "$c1" != "$new" ] && [ "$c2" != "$new" ] || fail "the credential is the machine secret"
fb events --machine 52:54:00:12:34:56 --stage credential | grep -q "issued by hand" ||
	fail "no credential event"
check_err 1 "no machine 52-54-00-12-34-99" fb machine credential 52:54:00:12:34:99
check_err 2 "machine credential needs a MAC" fb machine credential
fb image import tiny --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" >/dev/null
fb machine set 52:54:00:12:34:56 --image tiny@2 >/dev/null || fail "pin to tiny@2"
check_err 1 "1 machine(s) are pinned to tiny@2" fb image retire tiny@2
fb machine set 52:54:00:12:34:56 --image tiny >/dev/null || fail "unpin"
fb image retire tiny@2 >/dev/null || fail retire
fb image show tiny --json | grep -q '"version": 1' || fail "tiny should resolve to v1 after retiring v2"
fb machine rm 52:54:00:12:34:57 >/dev/null || fail rm
assert_eq "$(fb machine list --json | grep -c '"mac"')" 1 "machines after rm"

# Two CLI processes adding machines at once: every row lands, no error.
add_many() {
	local k=$1 i
	for i in $(seq 0 59); do
		fb machine add "$(printf '02:00:00:00:%02x:%02x' "$k" "$i")" --mode ephemeral \
			>/dev/null || return 1
	done
}
add_many 1 &
p1=$!
add_many 2 &
p2=$!
wait $p1 || fail "first writer failed"
wait $p2 || fail "second writer failed"
assert_eq "$(fb machine list --json | grep -c '"mac"')" 121 "machines after concurrent adds"
fb status | grep -q '^machines: *121' || fail "status count"
echo "cli ok"
