#!/usr/bin/env bash
# timeout: 240
# The admin UI in Debian's headless chromium, driven by playwright-core:
# log in, add a machine, assign an image, record boot events and watch the
# dashboard follow them live (no reload), see a self-registered machine in
# "new machines", manage groups (issue 15) and filter the dashboard by
# group, and save screenshots ($FB_ARTIFACTS/web-dashboard.png and others).
# Everything runs inside the test's own network namespace.
. "$(dirname "$0")/lib-web.sh"
requires node mke2fs
[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed (make deps)"
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && npm install --no-audit --no-fund -q >/dev/null 2>&1) ||
		skip "playwright-core is not installed (make deps runs npm install in tests/web)"
fi
web_setup

EV=$(dirname "$FB_BIN")/tests/web/web_event_add
[ -x "$EV" ] || fail "test helper $EV not built"

# An image to assign (tiny stand-ins with the right signatures).
truncate -s 4M "$WEB_T/rootfs.img"
mke2fs -q -F -t ext4 "$WEB_T/rootfs.img" >/dev/null 2>&1 || fail "mke2fs"
head -c 4096 /dev/zero >"$WEB_T/vmlinuz"
printf 'HdrS' | dd of="$WEB_T/vmlinuz" bs=1 seek=514 conv=notrunc status=none
echo initrd | gzip >"$WEB_T/initrd.img"
fb image import tiny --rootfs "$WEB_T/rootfs.img" --kernel "$WEB_T/vmlinuz" \
	--initrd "$WEB_T/initrd.img" >"$WEB_T/import.out" 2>&1 || fail "image import: $(cat "$WEB_T/import.out")"
# A boot entry for the machine page's next boot and the entries page.
fb entry add memtest --kernel "$WEB_T/vmlinuz" --title "Memtest86+" >/dev/null || fail "entry add"

# Boot stages come the real way when bootd is built: its HTTP endpoint
# takes the initramfs's stage reports (POST /boot/MAC/stage, with a boot
# credential) and registers unknown machines that ask for a script.
# Without bootd, the helper records them through the same DB API.
BOOTD_URL=
if [ -x "$FB_BIN/fleetboot-bootd" ]; then
	printf '[bootd]\ndhcp = off\ntftp = off\nhttp_port = 8067\n' >>"$FLEETBOOT_CONF"
	# Not through the nsx function: $! must be bootd itself, not a subshell.
	ip netns exec "$WEB_NS" "$FB_BIN/fleetboot-bootd" -f -v -c "$FLEETBOOT_CONF" \
		>"$WEB_T/bootd.log" 2>&1 &
	echo $! >"$WEB_T/bootd.pid"
	kill_at_exit "$WEB_T/bootd.pid"
	if wait_for 20 nsx curl -sf http://127.0.0.1:8067/healthz; then
		BOOTD_URL=http://127.0.0.1:8067
		echo "boot stages go through fleetboot-bootd at $BOOTD_URL"
		# The unknown machine: a namespace of its own on a veth with its
		# MAC, so bootd sees the requester is that machine.
		CLI_NS=$(netns_new cli)
		ns_cleanup "$CLI_NS"
		ip link add wb0 netns "$WEB_NS" type veth peer name wc0 netns "$CLI_NS" || fail "veth"
		ip -n "$CLI_NS" link set wc0 address 52:54:00:bb:00:99
		ip -n "$WEB_NS" addr add 10.78.0.1/24 dev wb0
		ip -n "$CLI_NS" addr add 10.78.0.99/24 dev wc0
		ip -n "$WEB_NS" link set wb0 up
		ip -n "$CLI_NS" link set wc0 up
	else
		tail -n 20 "$WEB_T/bootd.log"
		fail "fleetboot-bootd did not start"
	fi
else
	echo "fleetboot-bootd not built: boot stages are recorded by $EV"
fi

mkdir -p "$WEB_T/profile"
rm -f "$FB_ARTIFACTS/web-dashboard.png"
nsx env WEB_URL="$WEB_URL" ADMIN_PW="$ADMIN_PW" STATE_DIR="$WEB_T/state" EV="$EV" \
	BOOTD_URL="$BOOTD_URL" CLI_NS="${CLI_NS:-}" FB="$FB_BIN/fleetboot" \
	FB_ARTIFACTS="$FB_ARTIFACTS" PROFILE="$WEB_T/profile" HOME="$WEB_T" \
	timeout 180 node "$here/ui.mjs" || fail "browser test failed (see $FB_ARTIFACTS/web-failure.png)"
[ -s "$FB_ARTIFACTS/web-dashboard.png" ] || fail "no dashboard screenshot"
echo "screenshot: $FB_ARTIFACTS/web-dashboard.png"
kill -0 "$(cat "$WEB_T/web.pid")" || fail "fleetboot-web died"
