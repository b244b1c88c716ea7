#!/usr/bin/env bash
# timeout: 240
# fleetboot-web's REST API with curl, inside a private network namespace:
# authentication on every route, CSRF, login back-off, bearer tokens,
# validation (400 naming the field), 404/409/413/415, invalid UTF-8,
# static path traversal, SQL-looking input, the event list and stream,
# /status and /metrics, and that API changes are what the CLI sees.
. "$(dirname "$0")/lib-web.sh"
requires jq
web_setup
J='Content-Type: application/json'
EV=$(dirname "$FB_BIN")/tests/web/web_event_add
[ -x "$EV" ] || fail "test helper $EV not built"

# ---- every route refuses without a session or token ------------------------
MAC=52-54-00-aa-00-01
for route in "GET /api/v1" "GET /api/v1/machines" "POST /api/v1/machines" \
	"GET /api/v1/machines/$MAC" "PATCH /api/v1/machines/$MAC" \
	"DELETE /api/v1/machines/$MAC" "GET /api/v1/groups" "GET /api/v1/images" \
	"GET /api/v1/images/x" "GET /api/v1/images/x/1" "POST /api/v1/images/x/1/retire" \
	"GET /api/v1/overlays" "GET /api/v1/overlays/$MAC" "POST /api/v1/overlays/$MAC/reset" \
	"POST /api/v1/overlays/$MAC/commit" "GET /api/v1/leases" "GET /api/v1/events" \
	"GET /api/v1/events/stream" "GET /api/v1/status" "GET /api/v1/session" \
	"POST /api/v1/logout" "GET /metrics" "GET /api/v1/nonexistent"; do
	# shellcheck disable=SC2086 # split "METHOD PATH" on purpose
	set -- $route
	what="unauthenticated $route"
	api "$1" "$2" -H "$J" -d '{}'
	expect 401 "authentication required"
	# A wrong token or another scheme does not get in either.
	api "$1" "$2" -H 'Authorization: Bearer fbt_0000000000000000000000000000000000000000'
	expect 401
	api "$1" "$2" -H 'Authorization: Basic YWRtaW46YWRtaW4='
	expect 401
done
# The UI pages redirect to the login page; only the login's own files are open.
for p in / /index.html /app.js /machine.html; do
	what="UI $p without login"
	api GET "$p"
	expect 302
done
what="login page"
api GET /login.html
expect 200 "<form"

# ---- login ----------------------------------------------------------------
what="wrong password"
api POST /api/v1/login -H "$J" -d '{"user":"admin","password":"admin"}'
expect 401 "wrong"
what="empty default password"
api POST /api/v1/login -H "$J" -d '{"user":"admin","password":""}'
expect 401
what="login with a form body"
api POST /api/v1/login -d "user=admin&password=$ADMIN_PW"
expect 415 "Content-Type"
what="login"
nsx curl -s -m 10 -D "$WEB_T/login.h" -c "$WEB_T/jar" -o "$WEB_T/login.json" -H "$J" \
	-d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$WEB_URL/api/v1/login"
grep -qi '^set-cookie: fb_session=[0-9a-f]\{64\};.*HttpOnly' "$WEB_T/login.h" ||
	fail "session cookie missing or not HttpOnly: $(cat "$WEB_T/login.h")"
grep -qi '^set-cookie:.*SameSite=Strict' "$WEB_T/login.h" || fail "cookie not SameSite=Strict"
CSRF=$(json_get 'j["csrf"]' <"$WEB_T/login.json")
[ ${#CSRF} = 64 ] || fail "no CSRF token in the login answer"
S=(-b "$WEB_T/jar")
C=(-b "$WEB_T/jar" -H "X-CSRF-Token: $CSRF" -H "$J")
what="session info"
api GET /api/v1/session "${S[@]}"
expect 200 "$CSRF"

# ---- CSRF ------------------------------------------------------------------
what="POST without CSRF token"
api POST /api/v1/machines "${S[@]}" -H "$J" -d "{\"mac\":\"$MAC\"}"
expect 403 "X-CSRF-Token"
what="POST with a wrong CSRF token"
case $CSRF in *0) WRONG=${CSRF%?}1 ;; *) WRONG=${CSRF%?}0 ;; esac
api POST /api/v1/machines "${S[@]}" -H "$J" -H "X-CSRF-Token: $WRONG" -d "{\"mac\":\"$MAC\"}"
expect 403
out=$(fb machine list --json) || fail "machine list: $out"
case $out in *"$MAC"*) fail "a refused POST added the machine" ;; esac

# ---- machines: add, validation, CLI agreement -------------------------------
what="add machine"
api POST /api/v1/machines "${C[@]}" -d '{"mac":"52:54:00:AA:00:01","name":"lab-pc1","group":"lab"}'
expect 201 "\"mac\":\"$MAC\""
fb machine list | grep -q "^$MAC  *lab-pc1" || fail "machine added via the API is not in 'fleetboot machine list'"
fb machine list --json | grep -q '"lab-pc1"' || fail "machine missing from machine list --json"
what="duplicate machine"
api POST /api/v1/machines "${C[@]}" -d "{\"mac\":\"$MAC\"}"
expect 409 "exists"
what="bad JSON"
api POST /api/v1/machines "${C[@]}" -d '{"mac": '
expect 400 "body: invalid JSON"
what="JSON array"
api POST /api/v1/machines "${C[@]}" -d '[1,2]'
expect 400 "body: must be a JSON object"
what="duplicate keys"
api POST /api/v1/machines "${C[@]}" -d '{"mac":"52:54:00:aa:00:09","mac":"52:54:00:aa:00:08"}'
expect 400 "body"
what="missing mac"
api POST /api/v1/machines "${C[@]}" -d '{"name":"x"}'
expect 400 "mac: required"
what="bad mac"
api POST /api/v1/machines "${C[@]}" -d '{"mac":"52:54:00:zz:00:01"}'
expect 400 "mac:"
what="bad mode"
api POST /api/v1/machines "${C[@]}" -d '{"mac":"52:54:00:aa:00:02","mode":"sometimes"}'
expect 400 "mode:"
what="bad protocol"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"protocol":"ftp"}'
expect 400 "protocol:"
what="bad ip"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"ip":"10.0.0.300"}'
expect 400 "ip:"
what="wrong type"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"name":42}'
expect 400 "name: must be a string"
what="unknown field"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"colour":"red"}'
expect 400 "colour: unknown field"
what="too long name"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d "{\"name\":\"$(printf 'a%.0s' {1..100})\"}"
expect 400 "name: too long"
what="Secure Boot machine to persistent"
# A Secure Boot machine runs readonly only (a verified root takes no
# writes): the API refuses what the CLI refuses, and changes nothing.
fb machine add 52:54:00:aa:00:0b --mode readonly --secure-boot on >/dev/null || fail "add a Secure Boot machine"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"mode":"persistent"}'
expect 400 "only --mode readonly can run on; mode persistent"
fb machine show 52:54:00:aa:00:0b | grep -q "^mode: *readonly" || fail "a refused PATCH changed the mode"
what="Secure Boot on over persistent"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"secure_boot":"off","mode":"persistent"}'
expect 200 '"secure_boot":"off"'
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"secure_boot":"on"}'
expect 400 "only --mode readonly can run on; mode persistent"
what="loader and secure_boot as the CLI's --loader and --secure-boot"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"secure_boot":"yes"}'
expect 400 "secure_boot: 'yes' is not on or off"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"loader":"grub"}'
expect 400 "loader: 'grub' is not ipxe or pxelinux"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"mode":"readonly","secure_boot":"on","loader":"pxelinux"}'
expect 200
assert_eq "$(echo "$BODY" | jq -r '[.mode, .secure_boot, .from.secure_boot, .loader, .from.loader] | join(" ")')" \
	"readonly on machine pxelinux machine" "PATCH of loader and secure_boot"
api PATCH /api/v1/machines/52:54:00:aa:00:0b "${C[@]}" -d '{"secure_boot":"inherit","loader":""}'
expect 200
assert_eq "$(echo "$BODY" | jq -r '[.secure_boot, .from.secure_boot, .loader, .from.loader] | join(" ")')" \
	"off default ipxe default" "loader and secure_boot handed back"
fb machine rm 52:54:00:aa:00:0b >/dev/null || fail "rm the Secure Boot machine"
what="mac change"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"mac":"52:54:00:aa:00:05"}'
expect 400 "mac: cannot be changed"
what="unknown image"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"image":"nosuch"}'
expect 400 "image: no such image"
what="NUL in a string"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"name":"a\u0000b"}'
expect 400
what="wrong content type"
api PATCH /api/v1/machines/$MAC -b "$WEB_T/jar" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: text/plain' -d '{"name":"x"}'
expect 415
what="unknown machine"
api GET /api/v1/machines/52-54-00-ff-ff-ff "${S[@]}"
expect 404 "not found"
what="mac in the path"
api GET /api/v1/machines/not-a-mac "${S[@]}"
expect 400 "mac:"
what="patch: mode, protocol, ip, name, group"
api PATCH /api/v1/machines/52:54:00:aa:00:01 "${C[@]}" -d '{"mode":"ephemeral","protocol":"iscsi","ip":"10.0.0.50","name":"lab-pc1b","group":"lab2"}'
expect 200 '"mode":"ephemeral"'
fb machine show $MAC --json >"$WEB_T/show.json"
for kv in '"mode": "ephemeral"' '"protocol": "iscsi"' '"ip": "10.0.0.50"' '"name": "lab-pc1b"'; do
	grep -q "$kv" "$WEB_T/show.json" || fail "CLI does not show $kv after PATCH: $(cat "$WEB_T/show.json")"
done
what="ip already reserved"
api POST /api/v1/machines "${C[@]}" -d '{"mac":"52:54:00:aa:00:03","ip":"10.0.0.50"}'
expect 409 "ip:"
what="groups"
api GET /api/v1/groups "${S[@]}"
expect 200 '"name":"lab2"'

# ---- images: list, show with manifest, assign, retire ----------------------
requires mke2fs
truncate -s 4M "$WEB_T/rootfs.img"
mke2fs -q -F -t ext4 "$WEB_T/rootfs.img" >/dev/null 2>&1 || fail "mke2fs"
# Stand-ins with the right signatures: a bzImage header ("HdrS" at 0x202)
# and a gzip-compressed cpio archive.
head -c 4096 /dev/zero >"$WEB_T/vmlinuz"
printf 'HdrS' | dd of="$WEB_T/vmlinuz" bs=1 seek=514 conv=notrunc status=none
echo initrd | gzip >"$WEB_T/initrd.img"
fb image import tiny --rootfs "$WEB_T/rootfs.img" --kernel "$WEB_T/vmlinuz" \
	--initrd "$WEB_T/initrd.img" >"$WEB_T/import.out" 2>&1 || fail "image import: $(cat "$WEB_T/import.out")"
sha=$(sha256sum "$WEB_T/rootfs.img" | cut -d' ' -f1)
what="image list"
api GET /api/v1/images "${S[@]}"
expect 200 "\"sha256\":\"$sha\""
expect 200 '"size":4194304'
what="image show"
api GET /api/v1/images/tiny/1 "${S[@]}"
expect 200 '"manifest":{'
what="image versions"
api GET /api/v1/images/tiny "${S[@]}"
expect 200 '"versions":['
what="unknown image version"
api GET /api/v1/images/tiny/7 "${S[@]}"
expect 404
what="bad version"
api GET /api/v1/images/tiny/x "${S[@]}"
expect 400 "version:"
what="assign image"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d '{"image":"tiny@1"}'
expect 200 '"image":"tiny@1"'
fb machine list | grep -q "tiny@1" || fail "assigned image not seen by the CLI"
what="retire without CSRF"
api POST /api/v1/images/tiny/1/retire "${S[@]}"
expect 403
what="retire"
api POST /api/v1/images/tiny/1/retire "${C[@]}"
expect 200 '"state":"retired"'
what="retire twice"
api POST /api/v1/images/tiny/1/retire "${C[@]}"
expect 409

# ---- overlays ----------------------------------------------------------------
what="overlay list"
api GET /api/v1/overlays "${S[@]}"
expect 200 '"overlays":['
what="reset without overlay"
api POST /api/v1/overlays/$MAC/reset "${C[@]}"
expect 404
what="commit with a bad name"
api POST /api/v1/overlays/$MAC/commit "${C[@]}" -d '{"as":"../evil"}'
expect 400 "as:"
what="commit without overlay"
api POST /api/v1/overlays/$MAC/commit "${C[@]}" -d '{"as":"snap"}'
expect 404
what="commit: unknown field"
api POST /api/v1/overlays/$MAC/commit "${C[@]}" -d '{"as":"snap","force":true}'
expect 400 "unknown field"
# An overlay recorded in the database whose file storaged never wrote: the
# commit runs 'fleetboot overlay commit' and reports its error text; the
# reset runs 'fleetboot overlay reset', which drops the stale record.
"$EV" "$WEB_T/state" --overlay $MAC tiny@1 || fail "cannot record an overlay"
what="overlay show"
api GET /api/v1/overlays/$MAC "${S[@]}"
expect 200 '"base":"tiny@1"'
what="commit of a missing overlay file"
api POST /api/v1/overlays/$MAC/commit "${C[@]}" -d '{"as":"snap"}'
expect 409 "overlays/$MAC"
grep -q "overlay commit $MAC: exit 1" "$WEB_T/web.log" || fail "commit did not run the CLI"
out=$(fb image list) || fail "image list: $out"
case $out in *snap*) fail "a failed commit registered an image: $out" ;; esac
what="reset"
api POST /api/v1/overlays/$MAC/reset "${C[@]}"
expect 200 '"action":"reset"'
what="overlay after reset"
api GET /api/v1/overlays/$MAC "${S[@]}"
expect 404

# ---- bad input: sizes, UTF-8, traversal, SQL-looking text --------------------
n_before=$(fb machine list --json | grep -c '"mac"')
head -c 100000 /dev/zero | tr '\0' 'a' >"$WEB_T/big"
what="oversized body"
api POST /api/v1/machines "${C[@]}" --data-binary @"$WEB_T/big"
expect 413 "body: larger than"
what="oversized chunked body"
api POST /api/v1/machines "${C[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WEB_T/big"
expect 413
what="oversized login"
api POST /api/v1/login -H "$J" --data-binary @"$WEB_T/big"
expect 413
printf '{"mac":"52:54:00:aa:00:04","name":"\xc3\x28"}' >"$WEB_T/bad-utf8"
what="invalid UTF-8 body"
api POST /api/v1/machines "${C[@]}" --data-binary @"$WEB_T/bad-utf8"
expect 400 "UTF-8"
printf '{"mac":"52:54:00:aa:00:04","name":"\xc0\xaf"}' >"$WEB_T/overlong"
what="overlong UTF-8"
api POST /api/v1/machines "${C[@]}" --data-binary @"$WEB_T/overlong"
expect 400 "UTF-8"
what="invalid UTF-8 in the query"
api GET "/api/v1/events?stage=%ff%fe" "${S[@]}"
expect 400 "UTF-8"
for p in /../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /..%2f..%2fetc%2fpasswd \
	/ui/../../web.h /.%2e/web.h /%2e/login.html /.hidden "/login.html%00.js" \
	"/foo\\..\\web.h" //etc/passwd /app.js/..; do
	what="traversal $p"
	api GET "$p" --path-as-is "${S[@]}"
	[ "$CODE" = 404 ] || [ "$CODE" = 400 ] || fail "$what: status $CODE"
	case "$BODY" in *root:*) fail "$what leaked a file" ;; esac
done
what="SQL in a name"
api POST /api/v1/machines "${C[@]}" -d "{\"mac\":\"52:54:00:aa:00:06\",\"name\":\"x'; DROP TABLE machines;--\"}"
expect 400 "name:"
what="SQL in a group"
api PATCH /api/v1/machines/$MAC "${C[@]}" -d "{\"group\":\"a' OR '1'='1\"}"
expect 400 "group:"
what="SQL in the query"
api GET "/api/v1/events?machine=%27%20OR%201%3D1%20--" "${S[@]}"
expect 400 "machine:"
what="SQL in the path"
api GET "/api/v1/images/x%27%3B%20DROP%20TABLE%20images%3B--/1" "${S[@]}"
expect 400 "name:"
what="SQL as a login user"
api POST /api/v1/login -H "$J" -d "{\"user\":\"admin' --\",\"password\":\"x' OR '1'='1\"}"
expect 401
n_after=$(fb machine list --json | grep -c '"mac"')
assert_eq "$n_after" "$n_before" "machine count after bad input"
fb image list | grep -q tiny || fail "images table damaged"

# ---- events: list, filters, stream -------------------------------------------
TOKEN=$(fb token create ci 2>/dev/null)
T=(-H "Authorization: Bearer $TOKEN")
nsx curl -s -N -m 6 "${T[@]}" "$WEB_URL/api/v1/events/stream" >"$WEB_T/sse.out" &
sse=$!
sleep 1
"$EV" "$WEB_T/state" $MAC dhcp "arch=0 ipxe=0"
"$EV" "$WEB_T/state" $MAC kernel "file=vmlinuz"
"$EV" "$WEB_T/state" 52:54:00:aa:00:99 dhcp ""
wait_for 4 grep -q '"stage":"kernel"' "$WEB_T/sse.out" || fail "event stream did not deliver: $(cat "$WEB_T/sse.out")"
# The metrics below count what the poller has seen: wait for the last event.
wait_for 4 grep -q 'aa-00-99' "$WEB_T/sse.out" || fail "event stream lacks the third event: $(cat "$WEB_T/sse.out")"
grep -q '^id: 2$' "$WEB_T/sse.out" || fail "event stream lacks ids"
kill $sse 2>/dev/null
what="event list"
api GET "/api/v1/events?machine=$MAC" "${T[@]}"
expect 200 '"stage":"kernel"'
case "$BODY" in *aa-00-99*) fail "machine filter ignored: $BODY" ;; esac
what="event stage filter"
api GET "/api/v1/events?stage=dhcp&limit=1" "${T[@]}"
expect 200 '"more":true'
what="event paging"
api GET "/api/v1/events?after=2" "${T[@]}"
expect 200 '"id":3'
case "$BODY" in *'"id":1,'*) fail "after= ignored" ;; esac
what="bad after"
api GET "/api/v1/events?after=abc" "${T[@]}"
expect 400 "after:"
what="bad limit"
api GET "/api/v1/events?limit=0" "${T[@]}"
expect 400 "limit:"
what="bad stage"
api GET "/api/v1/events?stage=a%20b" "${T[@]}"
expect 400 "stage:"

# ---- bearer token: changes without CSRF, status, metrics, revoke --------------
what="token POST"
api POST /api/v1/machines "${T[@]}" -H "$J" -d '{"mac":"52:54:00:aa:00:07","image":"menu"}'
expect 201
what="status"
api GET /api/v1/status "${T[@]}"
expect 200 '"total":2'
what="metrics"
api GET /metrics "${T[@]}"
expect 200 'fleetboot_machines{stage="kernel"} 1'
for m in 'fleetboot_boot_events_total{stage="dhcp"} 2' 'fleetboot_boots_total 1' \
	'fleetboot_images{state="retired"} 1' 'fleetboot_web_login_failures_total'; do
	case "$BODY" in *"$m"*) ;; *) fail "metrics lack '$m': $BODY" ;; esac
done
fb token revoke ci 2>/dev/null || fail "token revoke"
what="revoked token"
api GET /api/v1/machines "${T[@]}"
expect 401

# ---- delete, logout -----------------------------------------------------------
what="delete"
api DELETE /api/v1/machines/52-54-00-aa-00-07 "${C[@]}"
expect 200
what="deleted machine"
api GET /api/v1/machines/52-54-00-aa-00-07 "${S[@]}"
expect 404
what="logout"
api POST /api/v1/logout "${C[@]}"
expect 200
what="session after logout"
api GET /api/v1/machines "${S[@]}"
expect 401

# ---- back-off after failed logins ----------------------------------------------
# Per address: three failures from 127.0.0.2, then even the right password
# waits, while 127.0.0.1 is unaffected.
# Fail until the server starts refusing (attempts inside a wait do not
# count), then try the right password at once, inside the wait.
for _ in $(seq 20); do
	api POST /api/v1/login --interface 127.0.0.2 -H "$J" -d '{"user":"mallory","password":"nope"}'
	[ "$CODE" = 429 ] && break
done
what="back-off begins"
expect 429
what="locked address"
api POST /api/v1/login --interface 127.0.0.2 -H "$J" -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}"
expect 429 "too many"
what="other address"
api POST /api/v1/login -H "$J" -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}"
expect 200
# Per user and address, never per user alone: many failures for admin from
# 127.0.0.3 do not lock the admin out; from 127.0.0.4 the admin logs in at
# once. The failing address waits for every user.
echo 'bob-password-1' | fb user passwd bob 2>/dev/null || fail "user passwd bob"
for _ in $(seq 20); do
	api POST /api/v1/login --interface 127.0.0.3 -H "$J" -d '{"user":"admin","password":"nope"}'
	[ "$CODE" = 429 ] && break
done
what="back-off for admin at 127.0.0.3"
expect 429
what="admin from another address"
api POST /api/v1/login --interface 127.0.0.4 -H "$J" -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}"
expect 200 '"user":"admin"'
what="another user at the failing address"
api POST /api/v1/login --interface 127.0.0.3 -H "$J" -d '{"user":"bob","password":"bob-password-1"}'
expect 429
what="that user elsewhere"
api POST /api/v1/login --interface 127.0.0.5 -H "$J" -d '{"user":"bob","password":"bob-password-1"}'
expect 200 '"user":"bob"'
grep -q "failed login for 'admin' from 127.0.0.3" "$WEB_T/web.log" || fail "failed logins are not logged"

# ---- password hashes --------------------------------------------------------
# New hashes are argon2id; a PBKDF2 hash from before still logs in and is
# replaced by an argon2id hash of the same password at that login.
hash_of() { sqlite3 "$WEB_T/state/fleetboot.db" "SELECT pwhash FROM users WHERE name='$1'"; }
if command -v sqlite3 >/dev/null; then
	case $(hash_of bob) in '$argon2id$v=19$'*) ;; *) fail "new hash is not argon2id: $(hash_of bob)" ;; esac
	old='pbkdf2-sha256$120000$000102030405060708090a0b0c0d0e0f$12e8376f214007f6825591f72e330e6aee96a944404bb477960f2e79bf487fc8'
	sqlite3 "$WEB_T/state/fleetboot.db" "UPDATE users SET pwhash='$old' WHERE name='carol'; INSERT OR IGNORE INTO users(name, pwhash, created) VALUES('carol', '$old', 0)"
	what="login with an old PBKDF2 hash"
	api POST /api/v1/login --interface 127.0.0.6 -H "$J" -d '{"user":"carol","password":"old-password-1"}'
	expect 200 '"user":"carol"'
	case $(hash_of carol) in '$argon2id$v=19$'*) ;; *) fail "old hash not renewed: $(hash_of carol)" ;; esac
	what="login after the rehash"
	api POST /api/v1/login --interface 127.0.0.6 -H "$J" -d '{"user":"carol","password":"old-password-1"}'
	expect 200 '"user":"carol"'
fi

# ---- verified-boot evidence (issue 16): verified_boot, one and the list -------
# bootd's records of a boot (firmware DHCP, the signed UKI handed out) and
# the initramfs's report, written through the DB API as bootd writes them.
what="verified_boot"
VB=52:54:00:aa:00:0c
fb machine add $VB --mode readonly --secure-boot on >/dev/null || fail "add $VB"
rh=$(fb image show tiny@1 --json | jq -r .verity_root_hash)
[ ${#rh} = 64 ] || fail "image tiny@1 has no root hash"
E=(-H "Authorization: Bearer $(fb token create evidence 2>/dev/null)")
"$EV" "$WEB_T/state" $VB dhcp "arch=7 ipxe=0" || fail "event dhcp"
"$EV" "$WEB_T/state" $VB uki-served "image=tiny@1 sha256=$(printf 'c%.0s' {1..64}) via=tftp" || fail "event uki-served"
api GET /api/v1/machines/$VB "${E[@]}"
expect 200 '"state":"unreported"'
"$EV" "$WEB_T/state" $VB verified "from=10.0.0.9 root_hash=$rh" || fail "event verified"
api GET /api/v1/machines/$VB "${E[@]}"
expect 200
assert_eq "$(jq -r '.verified_boot | [.state, .image, .verity_root_hash, .rootfs_sha256, .uki_sha256[0:4]] | join(" ")' <<<"$BODY")" \
	"verified tiny@1 $rh $sha cccc" "verified_boot of $VB"
api GET /api/v1/machines "${E[@]}"
expect 200
assert_eq "$(jq -r '.machines[] | select(.mac == "52-54-00-aa-00-0c") | .verified_boot.state' <<<"$BODY")" verified \
	"verified_boot of $VB in the list"
assert_eq "$(jq -r '.machines[] | select(.mac == "52-54-00-aa-00-01") | .verified_boot.state' <<<"$BODY")" not-secure-boot \
	"verified_boot of a machine with Secure Boot off"

kill -0 "$(cat "$WEB_T/web.pid")" || fail "fleetboot-web died"
grep -q "running as nobody" "$WEB_T/web.log" || fail "fleetboot-web did not drop privileges"
[ "$(stat -c %U "$WEB_T/state/fleetboot.db-wal" 2>/dev/null || echo nobody)" = nobody ] ||
	fail "the database's WAL belongs to $(stat -c %U "$WEB_T/state/fleetboot.db-wal")"
echo "web API: all checks passed"
