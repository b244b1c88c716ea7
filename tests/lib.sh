# shellcheck shell=bash
# tests/lib.sh - helpers for fleetboot's shell tests. Source it first:
#   . "$(dirname "$0")/../lib.sh"
#
# requires CMD...      skip (exit 77) with a reason when a tool is missing
# skip REASON          skip with a printed reason
# fail MSG             print and exit 1
# cleanup CMD          run CMD (eval'd) at exit, last added first
# netns_new NAME       create a network namespace removed at exit
# wait_for SECONDS CMD retry CMD until it succeeds or time runs out
# assert_eq A B MSG    fail unless A = B
# fb ARGS              the fleetboot CLI from $FB_BIN
set -u
: "${FB_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${FB_BIN:=$FB_TOP/build/bin}"
: "${FB_ARTIFACTS:=$FB_TOP/test-artifacts}"
export FB_TOP FB_BIN FB_ARTIFACTS
# Test state trees stay root's, whether or not this machine has the
# service user 'fleetboot' (any `make install` into the system creates it):
# `fleetboot init` as root would otherwise give each tree to that user,
# under a 0700 scratch directory it cannot reach, and refuse. A test about
# the service user names one per command (FLEETBOOT_USER=nobody fb init).
export FLEETBOOT_USER=root

# Cleanup commands go to a file, not a shell array, so that helpers called
# as X=$(tmpdir_new) or X=$(netns_new ...) (in a subshell) still register
# theirs with the test's own shell, which runs them all at exit.
_cleanup_file=$(mktemp "${TMPDIR:-/tmp}/fbcleanup.XXXXXX")
_cleanup_owner=$BASHPID
_run_cleanups() {
	[ "$BASHPID" = "$_cleanup_owner" ] || return 0
	local cmds i
	mapfile -t cmds <"$_cleanup_file"
	for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do
		eval "${cmds[$i]}" >/dev/null 2>&1 || true
	done
	rm -f "$_cleanup_file"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

cleanup() { printf '%s\n' "$*" >>"$_cleanup_file"; }
skip() {
	echo "skip: $*"
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
requires() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (make deps installs it)"
	done
}
requires_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
}
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"
}
wait_for() {
	local limit=$1
	shift
	local end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
# A private scratch directory, removed at exit.
tmpdir_new() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/fbtest.XXXXXX")
	cleanup "rm -rf '$d'"
	echo "$d"
}
# Namespace names carry the test's pid so parallel runs never collide.
netns_new() {
	local ns="fb$$-$1"
	ip netns add "$ns" || fail "cannot create namespace $ns"
	cleanup "ip netns pids '$ns' 2>/dev/null | xargs -r kill -9; ip netns del '$ns'"
	ip -n "$ns" link set lo up
	echo "$ns"
}
# Kill a process by pid file at exit.
kill_at_exit() { cleanup "[ -f '$1' ] && kill \$(cat '$1') 2>/dev/null; sleep 0.2; [ -f '$1' ] && kill -9 \$(cat '$1') 2>/dev/null"; }
fb() { "$FB_BIN/fleetboot" "$@"; }
# A small importable image in DIR: root.img (8 MiB ext4 holding /hello),
# vmlinuz (a stand-in with the bzImage header magic, not bootable) and
# initrd.img (a cpio archive). For CLI and DB tests that never boot it.
fixture_image() {
	local d=$1
	mkdir -p "$d/rootdir/etc"
	echo "hello from the fixture" >"$d/rootdir/hello"
	echo 'NAME="fixture"' >"$d/rootdir/etc/os-release"
	mke2fs -q -t ext4 -d "$d/rootdir" "$d/root.img" 8M || fail "mke2fs failed"
	head -c 8192 /dev/urandom >"$d/vmlinuz"
	printf 'HdrS' | dd of="$d/vmlinuz" bs=1 seek=514 conv=notrunc 2>/dev/null
	(cd "$d/rootdir" && find . | cpio -o -H newc 2>/dev/null) >"$d/initrd.img"
}
# A fresh state dir with its config file; prints the config path.
fixture_state() {
	local d=$1
	mkdir -p "$d"
	printf '[global]\nstate_dir = %s/state\n' "$d" >"$d/fleetboot.conf"
	echo "$d/fleetboot.conf"
}
