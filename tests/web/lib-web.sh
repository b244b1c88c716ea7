# shellcheck shell=bash
# tests/web/lib-web.sh - start fleetboot-web for a test, inside a network
# namespace of the test's own, with a fresh state directory.
#
#   web_setup          sets WEB_NS, WEB_T (scratch dir), WEB_URL, ADMIN_PW,
#                      FLEETBOOT_CONF; the server listens on 127.0.0.1 inside
#                      WEB_NS (loopback of a fresh namespace is private).
#   nsx CMD...         run CMD inside the namespace
#   api METHOD PATH [curl args...]   request; sets CODE and BODY
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Kill what still runs in a namespace, then remove it.
ns_cleanup() {
	cleanup "ip netns pids '$1' 2>/dev/null | xargs -r kill -9; ip netns del '$1' 2>/dev/null"
}

web_setup() {
	requires_root
	requires curl ip
	[ -x "$FB_BIN/fleetboot-web" ] || skip "fleetboot-web not built in $FB_BIN"
	# tmpdir_new and netns_new run in $(...) subshells, where the cleanup
	# they register is lost: register it again here, in this shell.
	WEB_T=$(tmpdir_new)
	cleanup "rm -rf '$WEB_T'"
	chmod 755 "$WEB_T"
	WEB_NS=$(netns_new web)
	ns_cleanup "$WEB_NS"
	cat >"$WEB_T/fleetboot.conf" <<EOF
[global]
state_dir = $WEB_T/state
[web]
listen = 127.0.0.1:8080
EOF
	export FLEETBOOT_CONF=$WEB_T/fleetboot.conf
	# As an install would: init, run as root, gives state_dir to the service
	# user, whom fleetboot-web runs as after binding (and so do the overlay
	# commands it runs). nobody stands in for the fleetboot user here.
	FLEETBOOT_USER=nobody fb init >"$WEB_T/init.out" 2>&1 || {
		cat "$WEB_T/init.out"
		fail "fleetboot init failed"
	}
	# init prints the random admin password once: there is no default.
	ADMIN_PW=$(sed -n 's/^web login: admin \/ \(.*\)$/\1/p' "$WEB_T/init.out")
	[ -n "$ADMIN_PW" ] || fail "fleetboot init printed no admin password"
	WEB_URL=http://127.0.0.1:8080
	ip netns exec "$WEB_NS" "$FB_BIN/fleetboot-web" -f -v -c "$FLEETBOOT_CONF" \
		>"$WEB_T/web.log" 2>&1 &
	echo $! >"$WEB_T/web.pid"
	san_watch "$WEB_T/web.log"
	kill_at_exit "$WEB_T/web.pid"
	cleanup "mkdir -p '$FB_ARTIFACTS/logs' && cp '$WEB_T/web.log' '$FB_ARTIFACTS/logs/web-${0##*/}.server.log'"
	wait_for 20 nsx curl -s -o /dev/null "$WEB_URL/login.html" ||
		{
			cat "$WEB_T/web.log"
			fail "fleetboot-web did not start"
		}
}

nsx() { ip netns exec "$WEB_NS" "$@"; }

# api METHOD PATH [curl args...]: CODE = status, BODY = response body.
api() {
	local m=$1 p=$2
	shift 2
	CODE=$(nsx curl -s -m 10 -o "$WEB_T/body" -w '%{http_code}' -X "$m" "$@" "$WEB_URL$p")
	BODY=$(cat "$WEB_T/body")
}

expect() { # CODE [substring of BODY] -- with a label in $what
	[ "$CODE" = "$1" ] || fail "${what:-request}: status $CODE, expected $1; body: $BODY"
	if [ $# -gt 1 ]; then
		case "$BODY" in
		*"$2"*) ;;
		*) fail "${what:-request}: body lacks '$2': $BODY" ;;
		esac
	fi
}

json_get() { # FILTER (python expression on j) < json
	/usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
