# shellcheck shell=bash
# tests/lib.sh - helpers for fleetboot's shell tests. Source it first:
#   . "$(dirname "$0")/../lib.sh"
#
# requires CMD...      skip (exit 77) when a tool is missing, naming the
#                      Debian package that has it
# san_watch [--restarts-ok] LOG
#                      at exit, fail the test (exit 0 or 77 becomes 1) if
#                      LOG holds a sanitizer report or, unless --restarts-ok,
#                      a daemon restart by `fleetboot up`; call it before the
#                      daemon's kill_at_exit, so the scan runs once it stopped
# skip REASON          skip with a printed reason
# fail MSG             print and exit 1
# cleanup CMD          run CMD (eval'd) at exit, last added first
# netns_new NAME       create a network namespace removed at exit
# wait_for SECONDS CMD retry CMD until it succeeds or time runs out
# assert_eq A B MSG    fail unless A = B
# refused_for LOG PATTERN WHAT CMD...
#                      CMD fails, and LOG gains a line matching PATTERN (the
#                      server's reason) while it runs; any other failure
#                      (no connection, another refusal) fails the test
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
# What san_watch found, printed once every cleanup has run.
_watch_found=$(mktemp "${TMPDIR:-/tmp}/fbwatch.XXXXXX")
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
# At exit: the cleanups (which stop the daemons and, through san_watch's
# entries, scan their logs), then a failure for anything the scans found,
# even if the test itself passed or skipped.
_on_exit() {
	local rc=$?
	[ "$BASHPID" = "$_cleanup_owner" ] || return 0
	_run_cleanups
	if [ -s "$_watch_found" ]; then
		cat "$_watch_found" >&2
		if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then rc=1; fi
	fi
	rm -f "$_watch_found"
	exit "$rc"
}
trap _on_exit EXIT
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
# The Debian package (Debian 12) that installs command $1; tools/deps.sh
# lists every one of them.
deb_package() {
	case "$1" in
	perfdhcp) echo kea-admin ;;
	iscsi-*) echo libiscsi-bin ;;
	qemu-img | qemu-io | qemu-nbd) echo qemu-utils ;;
	qemu-system-x86_64) echo qemu-system-x86 ;;
	nbdinfo | nbdcopy | nbdsh) echo libnbd-bin ;;
	mke2fs | debugfs | e2fsck | tune2fs) echo e2fsprogs ;;
	busybox) echo busybox-static ;;
	setpriv | lsblk | unshare) echo util-linux ;;
	iscsistart) echo open-iscsi ;;
	sfdisk | fdisk) echo fdisk ;;
	tgtd | tgtadm) echo tgt ;;
	dnsmasq) echo dnsmasq-base ;;
	ip | bridge) echo iproute2 ;;
	depmod | modprobe) echo kmod ;;
	node) echo nodejs ;;
	apt-get) echo apt ;;
	cmp) echo diffutils ;;
	sha256sum | stat | timeout) echo coreutils ;;
	tftp) echo tftp-hpa ;;
	veritysetup) echo cryptsetup-bin ;;
	iptables) echo "$1" ;;
	sbsign | sbverify) echo sbsigntool ;;
	objcopy | objdump) echo binutils ;;
	clang) echo clang ;;
	extlinux | nbdkit | cpio | sqlite3 | debootstrap | jq | curl | shellcheck | clang-format | make | \
		python3 | fio | file | bc | tcpdump | zstd | dosfstools | wrk | openssl | xorriso | gzip) echo "$1" ;;
	*) return 1 ;;
	esac
}
requires() {
	local c p
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		p=$(deb_package "$c") ||
			skip "$c is not installed (no Debian package known for it: name it in tests/lib.sh's deb_package)"
		skip "$c is not installed (Debian package $p; make deps installs it)"
	done
}
# Scan LOG for sanitizer reports and `fleetboot up` restarts; findings go
# to $_watch_found, with a copy of LOG kept under $FB_ARTIFACTS/logs (the
# test's scratch directory is removed at exit).
_watch_scan() { # [--restarts-ok] LOG
	local restarts=1
	[ "$1" = --restarts-ok ] && restarts=0 && shift
	local f=$1 hit r keep
	[ -f "$f" ] || return 0
	hit=$(grep -a -n -m 1 -A 12 -E \
		'ERROR: AddressSanitizer|ERROR: UndefinedBehaviorSanitizer|LeakSanitizer|runtime error:' "$f")
	if [ $restarts = 1 ]; then
		r=$(grep -a -n -m 5 -E 'fleetboot-[a-z]+ exited [^;]*; restarting' "$f")
		[ -n "$r" ] && hit="${hit:+$hit
}a daemon was restarted by fleetboot up:
$r"
	fi
	[ -n "$hit" ] || return 0
	keep="$FB_ARTIFACTS/logs/watch-$(basename "$0" .sh)-$$-$(basename "$f")"
	mkdir -p "$FB_ARTIFACTS/logs" && cp "$f" "$keep"
	{
		echo "FAIL: $f (kept as $keep):"
		printf '%s\n' "$hit" | sed 's/^/    /'
	} >>"$_watch_found"
}
san_watch() {
	local q
	printf -v q '%q ' "$@"
	# Once per log, however often its daemon is started again.
	grep -qxF -- "_watch_scan $q" "$_cleanup_file" || cleanup "_watch_scan $q"
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
refused_for() {
	local log=$1 pattern=$2 what=$3 n out
	shift 3
	n=$(wc -l <"$log")
	if out=$("$@" 2>&1); then
		fail "$what: succeeded: $out"
	fi
	# shellcheck disable=SC2016 # expanded by that sh
	if ! wait_for 5 sh -c 'tail -n +"$1" "$2" | grep -q -- "$3"' sh "$((n + 1))" "$log" "$pattern"; then
		echo "client said: $out" >&2
		tail -n +"$((n + 1))" "$log" | tail -n 10 >&2
		fail "$what: not refused for its reason ('$pattern' not logged)"
	fi
}
# A digest of what an admin's command or request may change: every table
# but what the running daemons write on their own (events, status, leases,
# a token's last use), so a comparison around a refused command is not upset
# by a daemon's own bookkeeping. An unreadable database yields a digest no
# other call gives, so the comparison fails rather than passes.
db_sum() {
	local tabs dump tokens
	if tabs=$(sqlite3 "$1" "SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'table'
		AND name NOT IN ('events', 'status', 'leases', 'tokens', 'sqlite_sequence')") &&
		[ -n "$tabs" ] && dump=$(sqlite3 "$1" ".dump $tabs") &&
		tokens=$(sqlite3 "$1" "SELECT id, name, hash, created FROM tokens ORDER BY id"); then
		printf '%s\n%s\n' "$dump" "$tokens" | sha256sum
	else
		echo "db_sum: cannot read $1 ($RANDOM$RANDOM)"
	fi
}
# Wait (10 s at most) until the daemons' queued writes have landed: two
# digests a second apart agree. Take a db_sum after this, so a change seen
# later is the command's, not a batched commit of earlier traffic.
db_settle() {
	local a b end=$((SECONDS + 10))
	a=$(db_sum "$1")
	while sleep 1; do
		b=$(db_sum "$1")
		[ "$a" = "$b" ] && return 0
		[ $SECONDS -ge $end ] && fail "the database $1 kept changing for 10 s"
		a=$b
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
