# tests/storaged/lib-storaged.sh - shared set-up for the storaged tests:
# a state dir made with the real CLI, a base image, and a server namespace
# with one client namespace per machine address (so each client connects
# from its machine's reserved address, as require_lease_ip wants).
#
#   sd_setup            state dir, config, base image "base" (sets T, CONF)
#   sd_net N IP         client namespace N: server side 10.77.N.1, client IP
#   sd_start            run fleetboot-storaged -f in the server namespace
#                       (more options in SD_ARGS, e.g. -vv)
#   sd_start_iscsi      the same with its iSCSI target, once it listens
#   sd_stop             stop it (SIGTERM)
#   sd_uri N MAC [CRED] nbd:// URI from client N for machine MAC, with the
#                       credential of its current boot (cred_of) or CRED
#   cred_of MAC         the machine's boot credential, issued once with
#                       `fleetboot machine credential` (a new boot) and kept
#   sd_newboot MAC      a new boot: a new credential (the old one stops working)
#   secret_of MAC       the machine's long-lived secret (opens nothing)
#   in_client N CMD...  run CMD in client namespace N
#   sd_nbdkit [PRELOAD] run nbdkit with the plugin alone in the server
#                       namespace (sets NBDKIT_PID; PRELOAD: one more
#                       library to preload; ENV=... assignments in SD_NBDKIT_ENV)
# shellcheck shell=bash

: "${SD_TOOLS:=$FB_BIN/../tests/storaged}"

sd_setup() {
	requires_root
	requires nbdkit nbdinfo nbdcopy mke2fs
	T=$(tmpdir_new)
	CONF=$T/fleetboot.conf
	cat >"$CONF" <<EOF
[global]
state_dir = $T/state
[bootd]
dhcp = authoritative
pool = 10.77.250.10-10.77.250.20
[storaged]
nbd_port = 10809
iscsi_port = 3260
require_lease_ip = on
EOF
	export FLEETBOOT_CONF=$CONF
	fb init >/dev/null 2>&1 || fail "fleetboot init"
	mkdir -p "$T/rootdir/etc"
	echo "fleetboot test base" >"$T/rootdir/etc/motd"
	head -c 3M /dev/urandom >"$T/rootdir/blob"
	mke2fs -q -t ext4 -d "$T/rootdir" "$T/base.img" 32M || fail "mke2fs"
	printf 'MZ fake kernel for tests' >"$T/vmlinuz"
	printf '070701 fake initrd' >"$T/initrd.img"
	fb image import base --rootfs "$T/base.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
		>/dev/null 2>&1 || fail "image import"
	SRV=$(netns_new srv)
}

# The client's MAC is MAC when given, else that of the machine reserved at
# CLIENT_IP (storaged wants the address and the MAC behind it to match).
sd_net() { # N CLIENT_IP [MAC]
	local n=$1 ip=$2 mac=${3:-} ns
	[ -n "$mac" ] || mac=$(fb machine list --json | tr -d ' \n' | tr '{' '\n' |
		sed -n "s/.*\"mac\":\"\([0-9a-f-]*\)\".*\"ip\":\"$ip\".*/\1/p" | head -n 1)
	ns=$(netns_new "c$n")
	ip link add "sd$$s$n" netns "$SRV" type veth peer name eth0 netns "$ns" ||
		fail "veth for client $n"
	ip -n "$SRV" addr add "10.77.$n.1/24" dev "sd$$s$n"
	ip -n "$SRV" link set "sd$$s$n" up
	ip -n "$ns" addr add "$ip/24" dev eth0
	[ -n "$mac" ] && ip -n "$ns" link set eth0 address "${mac//-/:}"
	ip -n "$ns" link set eth0 up
	eval "CLIENT_NS_$n=$ns"
}

in_client() { # N CMD...
	local n=$1 ns
	shift
	eval "ns=\$CLIENT_NS_$n"
	ip netns exec "$ns" "$@"
}

secret_of() { fb machine show "$1" --json | sed -n 's/.*"secret": "\([0-9a-f]*\)".*/\1/p'; }

cred_of() { # MAC
	local f=$T/cred-$1
	[ -s "$f" ] || fb machine credential "$1" >"$f" || fail "machine credential $1"
	cat "$f"
}

sd_newboot() { # MAC
	rm -f "$T/cred-$1"
	cred_of "$1" >/dev/null
}

sd_uri() { # N MAC [CREDENTIAL]
	local s=${3:-$(cred_of "$2")}
	echo "nbd://10.77.$1.1:10809/$2.$s"
}

sd_start() {
	SD_LOG=$T/storaged.log
	# shellcheck disable=SC2086 # SD_ARGS: options, split on purpose
	FB_STORAGED_NO_ISCSI=${FB_STORAGED_NO_ISCSI:-1} ip netns exec "$SRV" \
		"$FB_BIN/fleetboot-storaged" -f -c "$CONF" ${SD_ARGS:-} >>"$SD_LOG" 2>&1 &
	SD_PID=$!
	echo "$SD_PID" >"$T/storaged.pid"
	san_watch "$SD_LOG"
	kill_at_exit "$T/storaged.pid"
	wait_for 20 ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/10809" ||
		{ cat "$SD_LOG"; fail "storaged did not start listening"; }
}

# sd_start with the iSCSI target on, once it listens. Sets ISCSI_IQN (the
# target name prefix) and ISCSI_INI (an initiator name).
sd_start_iscsi() {
	FB_STORAGED_NO_ISCSI=0 sd_start
	wait_for 20 ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/3260" ||
		{ cat "$SD_LOG"; fail "no iSCSI listener"; }
	ISCSI_IQN=iqn.2026-11.org.fleetboot
	# shellcheck disable=SC2034 # read by the tests
	ISCSI_INI=$ISCSI_IQN:initiator
}

sd_stop() {
	kill "$SD_PID" 2>/dev/null
	wait "$SD_PID" 2>/dev/null
	rm -f "$T/storaged.pid"
}

# logged PATTERN WHAT: the daemon's log shows PATTERN (within 5 s), or fail
# with the log's tail.
logged() {
	wait_for 5 grep -q -- "$1" "$SD_LOG" && return 0
	tail -n 20 "$SD_LOG" >&2
	fail "$2 not logged"
}

# The crash and power-cut tests' machine: persistent, on client 1, served
# by the nbdkit that sd_nbdkit starts (stopped when the test ends).
sd_crash_machine() { # MAC
	fb machine add "$1" --image base --mode persistent --ip 10.77.1.11 >/dev/null ||
		fail "add $1"
	sd_net 1 10.77.1.11
	kill_at_exit "$T/nbdkit.pid"
}

# nbdkit with the fleetboot plugin, without storaged (the crash and power-cut
# tests kill it themselves). A sanitizer build of the plugin needs its
# runtimes preloaded into nbdkit, ahead of any other preload.
sd_nbdkit() { # [EXTRA_PRELOAD]
	local plugin=$FB_BIN/nbdkit-fleetboot-plugin.so pre=
	if ldd "$plugin" | grep -q libasan; then
		pre=$(ldd "$plugin" | awk '/libasan|libubsan/ {print $3}' | paste -sd:)
	fi
	[ -n "${1:-}" ] && pre=${pre:+$pre:}$1
	# shellcheck disable=SC2086 # SD_NBDKIT_ENV is a list of assignments
	ip netns exec "$SRV" env ${pre:+LD_PRELOAD=$pre} ${SD_NBDKIT_ENV:-} \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		nbdkit --foreground -p 10809 "$plugin" config="$CONF" >>"$T/nbdkit.log" 2>&1 &
	NBDKIT_PID=$!
	echo "$NBDKIT_PID" >"$T/nbdkit.pid"
	san_watch "$T/nbdkit.log"
	wait_for 20 ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/10809" ||
		{ cat "$T/nbdkit.log"; fail "nbdkit did not start"; }
}

# sd_refused N URI PATTERN WHAT: nbdinfo from client N fails to open URI,
# and the daemon's log gains, while it runs, a line matching PATTERN (the
# server's reason). A failure for any other reason (no connection, another
# refusal) fails the test.
sd_refused() {
	refused_for "$SD_LOG" "$3" "$4" in_client "$1" timeout 20 nbdinfo "$2"
}

# sd_qio_read N URI WHAT CMD...: qemu-io from client N runs the read
# commands CMD... (each "read -P PATTERN OFF LEN") on URI; each must read
# its whole length with the pattern verified, or fail the test with WHAT.
sd_qio_read() {
	local n=$1 uri=$2 what=$3 out c args=()
	shift 3
	for c in "$@"; do args+=(-c "$c"); done
	out=$(in_client "$n" timeout 60 qemu-io -f raw "${args[@]}" "$uri" 2>&1) ||
		fail "$what: qemu-io failed: $out"
	case $out in *"verification failed"*) fail "$what: $out" ;; esac
	[ "$(printf '%s\n' "$out" | grep -c '^read [0-9]*/[0-9]* bytes')" = $# ] ||
		fail "$what: not every read completed: $out"
}
