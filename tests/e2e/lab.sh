# shellcheck shell=bash
# tests/e2e/lab.sh - a virtual lab for booting diskless QEMU clients.
# Source after tests/lib.sh. Everything it makes lives inside one network
# namespace (a bridge with the server's address, one tap per client), is
# bounded in time, and is removed at exit through lib.sh's cleanup.
#
#   lab_new                 namespace + bridge br0 (10.66.0.1/24); sets LAB_NS
#   lab_tap NAME            a tap on the bridge, for one client
#   lab_host_link           a veth from the host to the lab (host 10.66.1.1,
#                           lab 10.66.1.2), so a person can open the web UI
#   lab_conf DIR [KEY=VAL]  a fleetboot.conf for a server on br0; prints its path
#   lab_up CONF LOG         `fleetboot up` inside the lab; waits for the ports;
#                           a sanitizer report or a daemon restart in LOG
#                           fails the test (LAB_RESTARTS_OK=1: restarts expected)
#   lab_qemu NAME MAC TAP LOG [bios|uefi|uefi-sb] [extra qemu args...]
#                           (uefi-sb: Secure Boot firmware trusting the snakeoil key)
#                           start a diskless client in the background;
#                           its pid goes to $LAB_DIR/NAME.pid
#   lab_wait_serial LOG PATTERN SECS
#   lab_events MAC          the stages fleetboot recorded for MAC, in order
#   lab_assert_no_leak CONF MAC LOG
#                           the boot's credential and the machine's secret are
#                           nowhere in the serial log, which holds the guest's
#                           fleetboot.test=leakscan (as user nobody)
LAB_SERVER=10.66.0.1
LAB_NET=10.66.0
: "${LAB_DIR:=$(tmpdir_new)}"
# One kernel download for every test of the run (the image tests share it).
export FLEETBOOT_CACHE=${FLEETBOOT_CACHE:-$FB_ARTIFACTS/cache/image}

lab_new() {
	requires_root
	requires ip qemu-system-x86_64
	LAB_NS=$(netns_new lab)
	ip -n "$LAB_NS" link add br0 type bridge
	ip -n "$LAB_NS" addr add "$LAB_SERVER/24" dev br0
	ip -n "$LAB_NS" link set br0 up
	export LAB_NS
}

lab_tap() {
	ip -n "$LAB_NS" tuntap add dev "$1" mode tap
	ip -n "$LAB_NS" link set "$1" master br0
	ip -n "$LAB_NS" link set "$1" up
}

# lab_server TAP...: a lab with these client taps and an initialised
# fleetboot server tree; sets CONF and exports it as FLEETBOOT_CONF, so
# `fb` uses it.
lab_server() {
	local t
	lab_new
	for t in "$@"; do
		lab_tap "$t"
	done
	CONF=$(lab_conf "$LAB_DIR/srv")
	export FLEETBOOT_CONF=$CONF
	fb init >/dev/null || fail "init"
}

# lab_requires_secure_boot: what a Secure Boot client needs, or the test
# skips: Debian's snakeoil OVMF (its db trusts the snakeoil key, which
# lab_snakeoil_site_key imports), systemd's EFI stub, the UKI's tools.
lab_requires_secure_boot() {
	local f
	requires veritysetup sbsign openssl jq
	for f in /usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd \
		/usr/share/ovmf/PkKek-1-snakeoil.key /usr/share/ovmf/PkKek-1-snakeoil.pem; do
		[ -r "$f" ] || skip "$f is missing (make deps installs ovmf)"
	done
	[ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] ||
		skip "no EFI stub (Debian package systemd-boot-efi)"
}

# lab_wait_verified_userspace NAME LOG ROOT_HASH WHO: the QEMU client NAME
# (lab_qemu) powers off within 300 s, having reached userspace on a
# dm-verity root of ROOT_HASH (its serial log LOG says both).
lab_wait_verified_userspace() {
	local pid
	pid=$(cat "$LAB_DIR/$1.pid")
	wait_for 300 sh -c "! kill -0 $pid 2>/dev/null" ||
		fail "$4 did not power off: $(grep -a "^fleetboot: \|FLEETBOOT" "$2" | tail -n 5)"
	grep -aq "FLEETBOOT-USERSPACE-OK" "$2" ||
		fail "$4 never reached userspace: $(grep -a "^fleetboot: \|FLEETBOOT" "$2" | tail -n 5)"
	grep -aq "^fleetboot: dm-verity: root hash ${3:0:16}" "$2" ||
		fail "$4: its root was not under dm-verity: $(grep -a "^fleetboot: " "$2" | tail -n 5)"
}

lab_host_link() {
	local h="fbh$$" n="fbn$$"
	ip link add "$h" type veth peer name "$n"
	cleanup "ip link del '$h' 2>/dev/null"
	ip link set "$n" netns "$LAB_NS"
	ip addr add 10.66.1.1/30 dev "$h"
	ip link set "$h" up
	ip -n "$LAB_NS" addr add 10.66.1.2/30 dev "$n"
	ip -n "$LAB_NS" link set "$n" up
}

lab_conf() {
	local dir=$1
	shift
	mkdir -p "$dir"
	{
		printf '[global]\nstate_dir = %s/state\nserver_address = %s\n\n' "$dir" "$LAB_SERVER"
		printf '[bootd]\ninterface = br0\ndhcp = authoritative\n'
		printf 'pool = %s.100-%s.199\nnetmask = 255.255.255.0\n' "$LAB_NET" "$LAB_NET"
		printf 'router = %s\ndns = %s\nlease_time = 600\n' "$LAB_SERVER" "$LAB_SERVER"
		printf 'http_port = 8067\nunknown_machines = register\nmenu_timeout = 3\nmenu_default = local\n\n'
		printf '[storaged]\nnbd_port = 10809\niscsi_port = 3260\nrequire_lease_ip = on\n\n'
		printf '[web]\nlisten = 0.0.0.0:8080\n'
	} >"$dir/fleetboot.conf"
	local kv k v
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		sed -i "s|^$k = .*|$k = $v|" "$dir/fleetboot.conf"
	done
	echo "$dir/fleetboot.conf"
}

lab_port_open() { # PORT: is something listening on the server address?
	ip netns exec "$LAB_NS" bash -c "exec 3<>/dev/tcp/$LAB_SERVER/$1" 2>/dev/null
}

lab_up() {
	local conf=$1 log=$2
	ip netns exec "$LAB_NS" "$FB_BIN/fleetboot" -c "$conf" up >"$log" 2>&1 &
	echo $! >"$LAB_DIR/up.pid"
	# A sanitizer report or a daemon restart fails the test (a test that
	# kills a daemon on purpose sets LAB_RESTARTS_OK=1).
	if [ "${LAB_RESTARTS_OK:-0}" = 1 ]; then san_watch --restarts-ok "$log"; else san_watch "$log"; fi
	cleanup "kill -TERM \$(cat '$LAB_DIR/up.pid') 2>/dev/null; sleep 1; kill -9 \$(cat '$LAB_DIR/up.pid') 2>/dev/null"
	wait_for 30 lab_port_open 8067 || fail "bootd HTTP did not come up: $(tail -n 20 "$log")"
	wait_for 30 lab_port_open 10809 || fail "storaged NBD did not come up: $(tail -n 20 "$log")"
}

# Check a KVM probe once; TCG otherwise (LAB.md: nested KVM hangs guests).
lab_accel() {
	echo "${FB_QEMU_ACCEL:-tcg}"
}

lab_qemu() {
	local name=$1 mac=$2 tap=$3 log=$4 fw=${5:-bios}
	shift 5 2>/dev/null || shift $#
	local args=(-accel "$(lab_accel)" -m 768 -smp 1 -nographic -no-reboot
		-serial "file:$log" -monitor none
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
	if [ "$fw" = uefi-sb ]; then
		# Secure Boot (LAB.md): OVMF's snakeoil build, whose db trusts
		# /usr/share/ovmf/PkKek-1-snakeoil.pem, on q35 with SMM.
		cp /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd "$LAB_DIR/$name.vars"
		args+=(-machine "q35,smm=on" -global "driver=cfi.pflash01,property=secure,value=on"
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd"
			-drive "if=pflash,format=raw,unit=1,file=$LAB_DIR/$name.vars"
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=")
	elif [ "$fw" = uefi ]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LAB_DIR/$name.vars"
		args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,unit=1,file=$LAB_DIR/$name.vars"
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=")
	else
		args+=(-device "virtio-net-pci,netdev=n0,mac=$mac" -boot n)
	fi
	ip netns exec "$LAB_NS" qemu-system-x86_64 "${args[@]}" "$@" >"$log.qemu" 2>&1 &
	echo $! >"$LAB_DIR/$name.pid"
	cleanup "kill -9 \$(cat '$LAB_DIR/$name.pid') 2>/dev/null"
}

lab_stop_qemu() {
	local pid
	pid=$(cat "$LAB_DIR/$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
}

lab_wait_serial() { # LOG PATTERN SECS
	wait_for "$3" grep -aq -- "$2" "$1"
}

lab_events() { # CONF MAC
	"$FB_BIN/fleetboot" -c "$1" events --machine "$2" --json |
		sed -n 's/.*"stage": *"\([^"]*\)".*/\1/p' | tr '\n' ' '
}

# lab_boot NAME MAC TAP LOG FW SECS [qemu args]: boot a client once and wait
# until it powers off (the image's fleetboot.test=poweroff); fails the test
# if it does not, or never reaches userspace.
lab_boot() {
	local name=$1 mac=$2 tap=$3 log=$4 fw=$5 secs=$6
	shift 6
	lab_qemu "$name" "$mac" "$tap" "$log" "$fw" "$@"
	local pid
	pid=$(cat "$LAB_DIR/$name.pid")
	wait_for "$secs" sh -c "! kill -0 $pid 2>/dev/null" ||
		fail "$name did not power off in $secs s: $(tail -c 3000 "$log")"
	grep -aq 'FLEETBOOT-USERSPACE-OK' "$log" ||
		fail "$name never reached userspace: $(tail -c 3000 "$log")"
}

# lab_image NAME CMDLINE: build the busybox image NAME with a command line.
lab_image() {
	fb image build "$1" --from busybox --cmdline "$2" >"$LAB_DIR/build-$1.log" 2>&1 ||
		fail "image build: $(tail -n 20 "$LAB_DIR/build-$1.log")"
}

# lab_snakeoil_site_key: the site key is Debian's OVMF snakeoil key, which
# the Secure Boot firmware (uefi-sb) trusts; every image version's boot.efi
# is signed with it.
lab_snakeoil_site_key() {
	local snake=/usr/share/ovmf/PkKek-1-snakeoil
	openssl rsa -passin pass:snakeoil -in $snake.key -out "$LAB_DIR/site.key" 2>/dev/null ||
		fail "openssl rsa of the snakeoil key"
	fb key import "$LAB_DIR/site.key" $snake.pem >/dev/null || fail "key import"
}

# lab_assert_events CONF MAC REGEX: the recorded stages match REGEX.
# bootd's event writer commits in batches, so the last report of a client
# that just powered off may land a moment later: up to 10 s are allowed.
lab_assert_events() {
	local got n=0
	while :; do
		got=$(lab_events "$1" "$2")
		echo "$got" | grep -Eq "$3" && break
		[ $n -lt 20 ] || fail "boot events of $2 do not match '$3': $got"
		n=$((n + 1))
		sleep 0.5
	done
	echo "$2 events: $got"
}

# lab_assert_no_leak CONF MAC LOG: the guest ran fleetboot.test=leakscan as
# an ordinary user (every run of 32+ hex digits it could read is in the
# serial log), and neither this boot's credential (what bootd handed out,
# read from the database) nor the machine's long-lived secret is among
# them, or anywhere else on the console.
lab_assert_no_leak() {
	local conf=$1 mac=$2 log=$3 state cred secret
	state=$(sed -n 's/^state_dir = //p' "$conf")
	cred=$("$FB_BIN/../tests/storaged/sd-dbtool" "$state" credential "$mac") ||
		fail "no credential was handed out for $mac"
	secret=$("$FB_BIN/fleetboot" -c "$conf" machine show "$mac" --json |
		sed -n 's/.*"secret": *"\([0-9a-f]*\)".*/\1/p')
	if [ ${#cred} -lt 32 ] || [ ${#secret} != 32 ]; then
		fail "cannot read the credential and secret of $mac"
	fi
	grep -aq 'FLEETBOOT-LEAKSCAN done uid=65534' "$log" ||
		fail "the guest's leak scan did not run as nobody: $(grep -a LEAKSCAN "$log" | tail -n 3)"
	echo "leak scan: $(grep -ac 'FLEETBOOT-LEAKSCAN hex=' "$log") hex strings readable by nobody"
	cp "$log" "$FB_ARTIFACTS/logs/leakscan-$mac-$(basename "$log")" 2>/dev/null
	if grep -aq "$cred" "$log"; then
		grep -an "$cred" "$log" | head -n 5
		fail "this boot's credential is readable on the running client"
	fi
	if grep -aq "$secret" "$log"; then
		grep -an "$secret" "$log" | head -n 5
		fail "the machine's secret is readable on the running client"
	fi
	return 0
}

# lab_test_lines LOG: the FLEETBOOT-TEST lines of a serial log, in order,
# without carriage returns or whatever the console printed before them.
lab_test_lines() {
	grep -ao 'FLEETBOOT-TEST .*' "$1" | tr -d '\r'
}

# lab_expect_lines LOG WHAT LINE...: the guest's FLEETBOOT-TEST lines are
# exactly LINE..., in that order; otherwise fail, showing both.
lab_expect_lines() {
	local log=$1 what=$2 got want
	shift 2
	got=$(lab_test_lines "$log")
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] && return 0
	printf 'expected:\n%s\ngot:\n%s\n' "$want" "$got" >&2
	fail "$what"
}

# lab_peer NAME MAC IP: a namespace on the lab bridge whose interface has
# MAC and IP, to stand in for a client that is powered off (so that tools
# reach storaged from the machine's own address); prints its name.
lab_peer() {
	local ns link="lp$$$1"
	ns=$(netns_new "$1")
	ip link add "$link" netns "$LAB_NS" type veth peer name eth0 netns "$ns" ||
		fail "veth for peer $1"
	ip -n "$LAB_NS" link set "$link" master br0
	ip -n "$LAB_NS" link set "$link" up
	ip -n "$ns" link set eth0 address "$2"
	ip -n "$ns" addr add "$3/24" dev eth0
	ip -n "$ns" link set eth0 up
	echo "$ns"
}

# lab_refused LOG PATTERN WHAT CMD...: refused_for (tests/lib.sh), then the
# server's line for the record.
lab_refused() {
	local log=$1 pattern=$2 what=$3 n
	n=$(wc -l <"$log")
	refused_for "$@"
	echo "refused ($what): $(tail -n +"$((n + 1))" "$log" | grep -- "$pattern" | head -n 1)"
}

# lab_stage_count CONF MAC STAGE: how many STAGE events fleetboot recorded
# for MAC (fails the test when the events cannot be read).
lab_stage_count() {
	local out
	out=$("$FB_BIN/fleetboot" -c "$1" events --machine "$2" --json) ||
		fail "cannot read the events of $2"
	printf '%s\n' "$out" | grep -c "\"stage\": *\"$3\""
}

# lab_disk_file IMG PATH: what an ext4 disk image holds at PATH ("<missing>"
# when there is no such file). A copy is checked first, so a journal left
# by the client is replayed as the client's kernel would on the next mount.
lab_disk_file() {
	local img=$1 path=$2 rc
	cp --sparse=always "$img" "$img.fsck"
	e2fsck -fy "$img.fsck" >"$img.fsck.log" 2>&1
	rc=$?
	[ $rc -le 1 ] || fail "e2fsck of $img: exit $rc: $(tail -n 5 "$img.fsck.log")"
	if debugfs -R "stat $path" "$img.fsck" 2>&1 | grep -q 'File not found'; then
		echo '<missing>'
	else
		debugfs -R "cat $path" "$img.fsck" 2>/dev/null
	fi
	rm -f "$img.fsck"
}

# The kernel keeps an iSCSI session's CHAP password (this boot's credential)
# in sysfs: its mode says 0444, but the kernel shows it to root only. The
# guest's leak scan reads it as nobody; the scan must have found it, and
# every one it found must have been refused.
lab_assert_iscsi_password_hidden() { # SERIAL_LOG
	local lines
	lines=$(grep -a "LEAKSCAN /sys/class/iscsi_session/.*/password" "$1") ||
		fail "the leak scan checked no iSCSI session password"
	grep -q "read-by-nobody=refused" <<<"$lines" || fail "no password read refused: $lines"
	if grep -q "read-by-nobody=readable" <<<"$lines"; then
		fail "an ordinary user can read the iSCSI session's password"
	fi
}
