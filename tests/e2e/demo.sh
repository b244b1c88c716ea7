#!/usr/bin/env bash
# make demo: build fleetboot, make a virtual lab, and boot two diskless
# QEMU clients through the real daemons while a live table shows each
# machine's boot stage. The lab stays up afterwards so the web UI can be
# explored; `make demo-stop` takes it all down.
#
# Everything runs inside the network namespace "fleetboot-demo": a bridge
# with the server (10.66.0.1), one tap per client, and a veth to the host
# (host 10.66.1.1, lab 10.66.1.2) so the web UI is reachable from here.
#
# Two boot entries come from Debian packages (the Debian 12 installer and
# memtest86+); desk-02 is set to the boot menu, which lists the image and
# both entries and boots the image after its timeout.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
NS=fleetboot-demo
DIR=/var/tmp/fleetboot-demo
BIN=$top/build/bin
CONF=$DIR/fleetboot.conf
HOST_IF=fbdemo-host
MACS=(52:54:00:fb:00:01 52:54:00:fb:00:02)
NAMES=(desk-01 desk-02)
MODES=(persistent ephemeral)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

stop_demo() {
	local p
	for p in "$DIR"/*.pid; do
		[ -f "$p" ] || continue
		kill -TERM "$(cat "$p")" 2>/dev/null
	done
	sleep 1
	for p in "$DIR"/*.pid; do
		[ -f "$p" ] || continue
		kill -9 "$(cat "$p")" 2>/dev/null
		rm -f "$p"
	done
	if ip netns list 2>/dev/null | grep -qw "$NS"; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -9
		ip netns del "$NS"
	fi
	ip link del "$HOST_IF" 2>/dev/null
	return 0
}

if [ "${1:-}" = --stop ]; then
	stop_demo
	echo "demo stopped (its files stay in $DIR until the next demo)"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root: it makes a network namespace and tap devices"
say "Installing dependencies (Debian packages; already-present ones are skipped)"
bash tools/deps.sh || die "make deps failed"
say "Building"
make -s -j"$(nproc)" all || die "build failed"

stop_demo
rm -rf "$DIR"
mkdir -p "$DIR"

say "Creating the lab: namespace $NS, bridge br0 (10.66.0.1/24), two client taps"
ip netns add "$NS" || die "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add 10.66.0.1/24 dev br0
ip -n "$NS" link set br0 up
for i in 0 1; do
	ip -n "$NS" tuntap add dev "tap$i" mode tap
	ip -n "$NS" link set "tap$i" master br0
	ip -n "$NS" link set "tap$i" up
done
ip link add "$HOST_IF" type veth peer name fbdemo-lab
ip link set fbdemo-lab netns "$NS"
ip addr add 10.66.1.1/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$NS" addr add 10.66.1.2/30 dev fbdemo-lab
ip -n "$NS" link set fbdemo-lab up

cat >"$CONF" <<C
[global]
state_dir = $DIR/state
server_address = 10.66.0.1

[bootd]
interface = br0
dhcp = authoritative
pool = 10.66.0.100-10.66.0.199
netmask = 255.255.255.0
router = 10.66.0.1
lease_time = 600
menu_timeout = 5
menu_default = tiny

[web]
listen = 0.0.0.0:8080
C
export FLEETBOOT_CONF=$CONF

say "fleetboot init"
init_out=$("$BIN/fleetboot" init) || die "fleetboot init failed"
echo "$init_out"
password=$(echo "$init_out" | sed -n 's|^web login: admin / ||p')
(umask 077 && echo "$password" >"$DIR/admin-password")

say "Building the busybox image (a tiny Linux root; seconds once the kernel is cached)"
"$BIN/fleetboot" image build tiny --from busybox || die "image build failed"
say "Adding boot entries from Debian packages: the Debian 12 installer and memtest86+"
di=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
"$BIN/fleetboot" entry add debian-installer --kernel "$di/linux" --initrd "$di/initrd.gz" \
	--cmdline "console=ttyS0,115200" --title "Debian 12 installer" || die "entry add failed"
"$BIN/fleetboot" entry add memtest --kernel /boot/memtest86+x64.bin \
	--cmdline "console=ttyS0,115200" --title "Memtest86+" || die "entry add failed"
IMAGES=(tiny menu)
for i in 0 1; do
	"$BIN/fleetboot" machine add "${MACS[$i]}" --name "${NAMES[$i]}" --image "${IMAGES[$i]}" \
		--mode "${MODES[$i]}" || die "machine add failed"
done

say "Starting the daemons (fleetboot up) inside the lab; log: $DIR/up.log"
setsid ip netns exec "$NS" "$BIN/fleetboot" up >"$DIR/up.log" 2>&1 </dev/null &
echo $! >"$DIR/up.pid"
for _ in $(seq 1 100); do
	ip netns exec "$NS" bash -c 'exec 3<>/dev/tcp/10.66.0.1/8067' 2>/dev/null && break
	sleep 0.2
done

say "Booting two diskless QEMU clients (software emulation: about half a minute each)"
for i in 0 1; do
	setsid ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 768 -nographic \
		-serial "file:$DIR/${NAMES[$i]}.serial" -monitor none \
		-netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=${MACS[$i]}" -boot n \
		>"$DIR/${NAMES[$i]}.qemu.log" 2>&1 </dev/null &
	echo $! >"$DIR/${NAMES[$i]}.pid"
done

# The live table: what fleetboot knows about each machine, every 2 s.
deadline=$((SECONDS + 300))
while :; do
	table=$("$BIN/fleetboot" machine list 2>&1)
	[ -t 1 ] && printf '\033[H\033[2J'
	printf 'fleetboot demo  (%ds)  serial consoles: %s/desk-0N.serial\n\n%s\n' \
		"$SECONDS" "$DIR" "$table"
	up=$(echo "$table" | grep -c ' userspace ')
	[ "$up" -ge 2 ] && break
	if [ $SECONDS -ge $deadline ]; then
		echo
		echo "demo: the clients did not both reach userspace in time; see $DIR/up.log"
		echo "and the serial logs in $DIR. 'make demo-stop' cleans up."
		exit 1
	fi
	[ -t 1 ] || echo
	sleep 2
done

echo
say "desk-02 drew the boot menu (the image and the entries) on its console:"
sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$DIR/desk-02.serial" | tr -cd '[:print:]\n' |
	grep -aoE 'tiny@1|Debian 12 installer|Memtest86\+|Boot from the local disk' | sort -u |
	sed 's/^/    /'
say "Both machines run with no local disk. Boot events:"
"$BIN/fleetboot" events | tail -n 20
cat <<M

  Web UI:   http://10.66.1.2:8080/   (login: admin / $password)
  Consoles: tail -f $DIR/desk-01.serial
  Server:   FLEETBOOT_CONF=$CONF $BIN/fleetboot status
  Entries:  FLEETBOOT_CONF=$CONF $BIN/fleetboot entry list
            (once into memtest: FLEETBOOT_CONF=$CONF $BIN/fleetboot machine set MAC --next-boot memtest)
  Stop it:  make demo-stop
M
