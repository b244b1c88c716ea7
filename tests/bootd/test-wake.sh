#!/usr/bin/env bash
# timeout: 120
# Wake-on-LAN (issue 15): `fleetboot machine wake` and the web API ask,
# bootd sends. The magic packets are captured with tcpdump on the client's
# side of the link, and checked byte for byte (tests/bootd/wol_frames.py
# builds the expected 6 x 0xff + 16 x MAC itself): one UDP broadcast to
# 255.255.255.255:9 and one raw frame, EtherType 0x0842, to
# ff:ff:ff:ff:ff:ff, per machine asked for; a `wake` event per machine.
# Refused, with nothing sent: bootd not running, a bad MAC, an unknown one,
# a group with no machines; the API without login (401), with a wrong
# token (401), with a session but no CSRF token (403); a local user who is
# not root (the database is root's).
. "$(dirname "$0")/common.sh"
requires tcpdump setpriv jq
PY=/usr/bin/python3
[ -x $PY ] || skip "no $PY (Debian package python3)"
FRAMES="$PY $(dirname "$0")/wol_frames.py"
[ -x "$FB_BIN/fleetboot-web" ] || skip "fleetboot-web is not built in $FB_BIN"

bootd_env
echo "[web]" >>"$CONF"
echo "listen = 127.0.0.1:8080" >>"$CONF"
bootd_net
A=52:54:00:77:0a:01
B=52:54:00:77:0a:02
C=52:54:00:77:0a:03
fb -c "$CONF" machine add $A --group lab >/dev/null || fail "machine add A"
fb -c "$CONF" machine add $B --group lab >/dev/null || fail "machine add B"
fb -c "$CONF" machine add $C >/dev/null || fail "machine add C"

# The capture, on the client's side, from before anything is asked.
PCAP=$T/wol.pcap
ip netns exec "$CLI" tcpdump -i bc0 -n -U -w "$PCAP" 'ether proto 0x0842 or (udp and dst port 9)' \
	>"$T/tcpdump.log" 2>&1 &
echo $! >"$T/tcpdump.pid"
kill_at_exit "$T/tcpdump.pid"
wait_for 10 grep -q "listening on" "$T/tcpdump.log" || fail "tcpdump did not start: $(cat "$T/tcpdump.log")"

frames() { $FRAMES "$PCAP" "$1"; }
# Wait until MAC's counts are exactly WANT (tcpdump writes as it captures).
expect_frames() { # MAC WANT WHAT
	wait_for 5 sh -c "[ \"\$($FRAMES '$PCAP' '$1')\" = '$2' ]" ||
		fail "$3: frames for $1: $(frames "$1"), expected $2"
}
# Nothing more than before for any machine: give a stray send time to land.
expect_none_new() { # WHAT
	sleep 1.5
	local m
	for m in $A $B $C; do
		assert_eq "$(frames $m)" "${seen[$m]}" "$1: frames for $m"
	done
}
declare -A seen=([$A]="raw=0 udp=0 bad=0" [$B]="raw=0 udp=0 bad=0" [$C]="raw=0 udp=0 bad=0")
one_line_err() { # WHAT PATTERN CMD...
	local what=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "$what: exit $rc, expected 1: $out"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "$what: not one line: $out"
	case "$out" in *$pat*) ;; *) fail "$what: '$out' lacks '$pat'" ;; esac
}

# bootd not running: refused, nothing queued, nothing sent.
one_line_err "bootd not running" "fleetboot-bootd is not running" fb -c "$CONF" machine wake $A
bootd_start
wait_for 10 sh -c "'$FB_BIN/fleetboot' -c '$CONF' status --json | jq -e '.daemons[\"bootd.daemon\"].value | startswith(\"pid=\")'" ||
	fail "bootd's heartbeat is not in the database"

# 1. The CLI: one machine.
out=$(fb -c "$CONF" machine wake $A) || fail "machine wake A: $out"
case "$out" in "woke 52-54-00-77-0a-01: bs0: udp 255.255.255.255:9, raw ethertype 0x0842") ;;
*) fail "machine wake A said: $out" ;; esac
expect_frames $A "raw=1 udp=1 bad=0" "CLI wake A"
seen[$A]="raw=1 udp=1 bad=0"
events_of $A | grep -q " wake  *magic packet, asked by cli (uid 0): bs0:" ||
	fail "no wake event for A: $(events_of $A)"

# 2. Bad input: one clear line, exit 1, nothing sent.
one_line_err "bad MAC" "'52:54:00:77:0a' is not a MAC address" fb -c "$CONF" machine wake 52:54:00:77:0a
one_line_err "unknown MAC" "no machine 52-54-00-77-0a-99" fb -c "$CONF" machine wake $A 52:54:00:77:0a:99
one_line_err "empty group" "group nobody-here has no machines" fb -c "$CONF" machine wake --group nobody-here
out=$(fb -c "$CONF" machine wake 2>&1)
[ $? = 2 ] || fail "machine wake with nothing: not a usage error: $out"
# A local user who is not root cannot ask (the database is the service's).
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$FB_BIN/fleetboot" -c "$CONF" machine wake $A 2>&1) &&
	fail "nobody could ask for a wake: $out"
expect_none_new "refused requests"

# 3. A group: both of its machines, once each; C is not in it.
out=$(fb -c "$CONF" machine wake --group lab) || fail "machine wake --group lab: $out"
[ "$(printf '%s\n' "$out" | grep -c '^woke ')" = 2 ] || fail "group wake said: $out"
expect_frames $A "raw=2 udp=2 bad=0" "group wake, A"
expect_frames $B "raw=1 udp=1 bad=0" "group wake, B"
seen[$A]="raw=2 udp=2 bad=0"
seen[$B]="raw=1 udp=1 bad=0"
assert_eq "$(frames $C)" "raw=0 udp=0 bad=0" "C is not in the group"

# 4. The API, started in bootd's namespace on its loopback.
ip netns exec "$SRV" "$FB_BIN/fleetboot-web" -f -v -c "$CONF" >"$T/web.log" 2>&1 &
echo $! >"$T/web.pid"
san_watch "$T/web.log"
kill_at_exit "$T/web.pid"
WEB=http://127.0.0.1:8080
wait_for 20 ip netns exec "$SRV" curl -s -o /dev/null $WEB/login.html || fail "web did not start: $(cat "$T/web.log")"
api() { # METHOD PATH [curl args]: CODE, BODY
	local m=$1 p=$2
	shift 2
	CODE=$(ip netns exec "$SRV" curl -s -m 10 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$WEB$p")
	BODY=$(cat "$T/body")
}
expect() { # CODE SUBSTRING WHAT
	[ "$CODE" = "$1" ] || fail "$3: status $CODE, expected $1: $BODY"
	case "$BODY" in *"$2"*) ;; *) fail "$3: body lacks '$2': $BODY" ;; esac
}
api POST /api/v1/machines/$B/wake
expect 401 "authentication required" "wake without login"
api POST /api/v1/machines/$B/wake -H "Authorization: Bearer 0123456789abcdef0123456789abcdef"
expect 401 "authentication required" "wake with a made-up token"
PW=$(sed -n 's/^web login: admin \/ \(.*\)$/\1/p' "$T/init.log")
[ -n "$PW" ] || fail "no admin password in init's output"
api POST /api/v1/login -c "$T/jar" -H 'Content-Type: application/json' \
	-d "{\"user\":\"admin\",\"password\":\"$PW\"}"
[ "$CODE" = 200 ] || fail "login: $CODE $BODY"
api POST /api/v1/machines/$B/wake -b "$T/jar"
expect 403 "X-CSRF-Token" "wake with a session but no CSRF token"
expect_none_new "unauthenticated API requests"

TOKEN=$(fb -c "$CONF" token create wake-test 2>/dev/null)
[ -n "$TOKEN" ] || fail "no API token"
H=(-H "Authorization: Bearer $TOKEN")
api POST /api/v1/machines/52:54:00:77:0a/wake "${H[@]}"
expect 400 "not a MAC address" "API: bad MAC"
api POST /api/v1/machines/52:54:00:77:0a:99/wake "${H[@]}"
expect 404 "no machine 52-54-00-77-0a-99" "API: unknown MAC"
api POST /api/v1/groups/nobody-here/wake "${H[@]}"
expect 404 "no machines in 'nobody-here'" "API: empty group"
api GET /api/v1/machines/$B/wake "${H[@]}"
expect 405 "use POST" "API: GET"
expect_none_new "refused API requests"

api POST /api/v1/machines/$C/wake "${H[@]}"
expect 202 '"state":"queued"' "API: wake C"
[ "$(echo "$BODY" | jq -r '.wake[0].mac')" = 52-54-00-77-0a-03 ] || fail "API: wake C: $BODY"
expect_frames $C "raw=1 udp=1 bad=0" "API wake C"
seen[$C]="raw=1 udp=1 bad=0"
wait_for 5 sh -c "'$FB_BIN/fleetboot' -c '$CONF' events --machine $C | grep -q ' wake  *magic packet, asked by web token wake-test'" ||
	fail "no wake event for C: $(events_of $C)"
api POST /api/v1/groups/lab/wake "${H[@]}"
expect 202 '"state":"queued"' "API: wake group lab"
expect_frames $A "raw=3 udp=3 bad=0" "API group wake, A"
expect_frames $B "raw=2 udp=2 bad=0" "API group wake, B"
assert_eq "$(frames $C)" "raw=1 udp=1 bad=0" "C is not in the group"
[ "$(events_of $A | grep -c ' wake ')" = 3 ] || fail "wake events of A: $(events_of $A)"

bootd_stop
echo "magic packets: A $(frames $A), B $(frames $B), C $(frames $C)"
