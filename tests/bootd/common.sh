# tests/bootd/common.sh - shared set-up for bootd's tests: a state dir made
# by the real `fleetboot init`, a server namespace joined to a client
# namespace by a veth pair, and bootd started inside the server namespace.
#
#   bootd_env [CONF LINES...]   state dir + config (extra lines go to [bootd])
#   bootd_net                   namespaces $SRV (bs0 10.77.0.1/24) and $CLI (bc0)
#   bootd_start                 start bootd in $SRV; waits for /healthz
#   bootd_stop                  stop it (SIGTERM, waits)
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

requires_root
requires ip curl
[ -x "$FB_BIN/fleetboot-bootd" ] || skip "fleetboot-bootd is not built in $FB_BIN"
[ -x "$FB_BIN/fleetboot" ] || skip "fleetboot is not built in $FB_BIN"

# Test clients are built next to the binaries ($FB_BIN/../tests/bootd).
BOOTD_TOOLS=$(cd "$FB_BIN/.." && pwd)/tests/bootd
SRV_IP=10.77.0.1
HTTP_PORT=8067

# tests/lib.sh's netns_new and tmpdir_new register their clean-up inside
# the $(...) subshell they run in, where it is lost; these register it in
# the test's own shell.
ns_new() { # VAR NAME
	local ns
	ns=$(netns_new "$2") || fail "cannot create namespace $2"
	cleanup "ip netns pids '$ns' 2>/dev/null | xargs -r kill -9; ip netns del '$ns'"
	printf -v "$1" '%s' "$ns"
}
tmp_new() { # VAR
	local d
	d=$(tmpdir_new) || fail "cannot create a scratch directory"
	cleanup "rm -rf '$d'"
	printf -v "$1" '%s' "$d"
}

bootd_env() {
	tmp_new T
	CONF=$T/fleetboot.conf
	{
		echo "[global]"
		echo "state_dir = $T/state"
		echo "[bootd]"
		echo "interface = bs0"
		echo "http_port = $HTTP_PORT"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
	fb -c "$CONF" init >"$T/init.log" 2>&1 || {
		cat "$T/init.log"
		fail "fleetboot init failed"
	}
}

bootd_net() {
	ns_new SRV srv
	ns_new CLI cli
	ip link add bs0 netns "$SRV" type veth peer name bc0 netns "$CLI" || fail "veth"
	ip -n "$SRV" addr add $SRV_IP/24 dev bs0
	ip -n "$SRV" link set bs0 up
	ip -n "$CLI" link set bc0 up
}

bootd_start() {
	local from
	from=1
	[ -f "$T/bootd.log" ] && from=$(($(wc -l <"$T/bootd.log") + 1))
	ip netns exec "$SRV" "$FB_BIN/fleetboot-bootd" -c "$CONF" -f ${BOOTD_ARGS--v} >>"$T/bootd.log" 2>&1 &
	BOOTD_PID=$!
	echo $BOOTD_PID >"$T/bootd.pid"
	san_watch "$T/bootd.log"
	kill_at_exit "$T/bootd.pid"
	cleanup "echo '--- bootd log (tail)'; tail -n 40 '$T/bootd.log' >&2"
	wait_for 20 ip netns exec "$SRV" curl -sf "http://$SRV_IP:$HTTP_PORT/healthz" ||
		{ cat "$T/bootd.log"; fail "bootd did not start"; }
	# HTTP answers before bootd drops to its user; "serving:" comes after.
	# shellcheck disable=SC2016 # expanded by that sh
	wait_for 10 sh -c 'tail -n +"$1" "$2" | grep -q "main: serving:"' sh "$from" "$T/bootd.log" ||
		{ cat "$T/bootd.log"; fail "bootd did not say it is serving"; }
}

bootd_stop() {
	kill -TERM "$BOOTD_PID" 2>/dev/null
	local i
	for i in $(seq 50); do
		kill -0 "$BOOTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$BOOTD_PID" 2>/dev/null && fail "bootd did not stop on SIGTERM"
	wait "$BOOTD_PID" 2>/dev/null
	local rc=$?
	[ $rc = 0 ] || {
		tail -n 60 "$T/bootd.log"
		fail "bootd exited with status $rc (sanitizer report?)"
	}
	return 0
}

bootd_alive() {
	kill -0 "$BOOTD_PID" 2>/dev/null || fail "bootd died; log: $(tail -n 30 "$T/bootd.log")"
}

# sqlite-free event check through the CLI.
events_of() { fb -c "$CONF" events --machine "$1" --limit 100 2>/dev/null; }

# A small importable image: an ext4 rootfs, a fake bzImage ("HdrS" at
# 0x202) of KSIZE bytes of random data, and a gzip initrd.
make_image() { # NAME KSIZE
	local d=$T/img-$1
	mkdir -p "$d"
	mke2fs -q -F -t ext4 "$d/rootfs.img" 4M >/dev/null 2>&1 || fail "mke2fs"
	head -c "$2" /dev/urandom >"$d/vmlinuz"
	printf 'HdrS' | dd of="$d/vmlinuz" bs=1 seek=$((0x202)) conv=notrunc status=none
	head -c 300000 /dev/urandom | gzip -1 >"$d/initrd.img"
	fb -c "$CONF" image import "$1" --rootfs "$d/rootfs.img" --kernel "$d/vmlinuz" \
		--initrd "$d/initrd.img" --cmdline "quiet" >"$T/import-$1.log" 2>&1 ||
		{ cat "$T/import-$1.log"; fail "image import $1"; }
}

# A udhcpc hook that records each event's variables in $OUT.EVENT.
udhcpc_script() {
	cat >"$T/udhcpc.sh" <<'X'
#!/bin/sh
env | grep -E '^(ip|siaddr|boot_file|serverid|lease|subnet|router)=' | sort >"$OUT.$1"
[ "$1" = bound ] || [ "$1" = renew ] && ip addr replace "$ip/24" dev "$interface"
exit 0
X
	chmod +x "$T/udhcpc.sh"
}
