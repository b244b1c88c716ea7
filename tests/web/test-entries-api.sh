#!/usr/bin/env bash
# shellcheck disable=SC2034 # $what is the label expect() (lib-web.sh) prints
# timeout: 120
# /api/v1/entries (issue 15): auth and CSRF as every route; POST from a
# server-side file (copied, sha256 as the file's) or a URL; 400 naming the
# field for a missing file, a bad URL, a bad name, unknown fields; 409 for a
# name that exists and for DELETE of an entry in use (a machine's next
# boot); the machine object's next_boot set and cleared with PATCH; what
# the API does is what the CLI sees.
. "$(dirname "$0")/lib-web.sh"
requires jq sha256sum
web_setup
J='Content-Type: application/json'
MAC=52-54-00-aa-00-15
fb machine add $MAC >/dev/null || fail "machine add"

# Files the web daemon (running as nobody) can read.
head -c 50000 /dev/urandom >"$WEB_T/k"
printf 'HdrS' | dd of="$WEB_T/k" bs=1 seek=$((0x202)) conv=notrunc status=none
head -c 3000 /dev/urandom >"$WEB_T/notkernel"
chmod 644 "$WEB_T/k" "$WEB_T/notkernel"

what="GET without login"
api GET /api/v1/entries
expect 401
TOKEN=$(fb token create entries-test 2>/dev/null)
[ -n "$TOKEN" ] || fail "no API token"
B=(-H "Authorization: Bearer $TOKEN" -H "$J")

what="POST a kernel entry from a server file"
api POST /api/v1/entries "${B[@]}" -d "{\"name\":\"rescue\",\"kernel\":\"$WEB_T/k\",\"cmdline\":\"console=ttyS0\",\"title\":\"Rescue\"}"
expect 201 '"served":true'
assert_eq "$(echo "$BODY" | jq -r .sha256)" "$(sha256sum <"$WEB_T/k" | cut -d' ' -f1)" "sha256"
cmp -s "$WEB_T/k" "$WEB_T/state/entries/rescue/kernel" || fail "not copied into the state tree"
what="POST an EFI entry by URL"
api POST /api/v1/entries "${B[@]}" -d '{"name":"fw","efi":"https://10.0.0.9/fw.efi"}'
expect 201 '"url":"https://10.0.0.9/fw.efi"'
what="GET the list"
api GET /api/v1/entries "${B[@]}"
expect 200
assert_eq "$(echo "$BODY" | jq -r '.entries[].name' | tr '\n' ' ')" "fw rescue " "entries"
assert_eq "$(fb entry list --json | jq -r '.[].name' | tr '\n' ' ')" "fw rescue " "the CLI agrees"
what="GET one"
api GET /api/v1/entries/rescue "${B[@]}"
expect 200 '"cmdline":"console=ttyS0"'

db_settle "$WEB_T/state/fleetboot.db"
before=$(db_sum "$WEB_T/state/fleetboot.db")
bad() { # CODE SUBSTRING BODY
	what="POST $3"
	api POST /api/v1/entries "${B[@]}" -d "$3"
	expect "$1" "$2"
}
bad 400 "kernel $WEB_T/nope: No such file or directory" "{\"name\":\"x\",\"kernel\":\"$WEB_T/nope\"}"
bad 400 "kernel $WEB_T/notkernel: not a Linux kernel" "{\"name\":\"x\",\"kernel\":\"$WEB_T/notkernel\"}"
bad 400 "iso: 'ftp://10.0.0.9/x.iso' is not an http:// or https:// URL" '{"name":"x","iso":"ftp://10.0.0.9/x.iso"}'
bad 400 "kernel: give a URL or an absolute path" '{"name":"x","kernel":"k"}'
bad 400 "name: 'a/b' is not a valid entry name" '{"name":"a/b","efi":"http://10.0.0.9/a.efi"}'
bad 400 "colour: unknown field" '{"name":"x","efi":"http://10.0.0.9/a.efi","colour":"red"}'
bad 400 "give one" '{"name":"x","efi":"http://10.0.0.9/a.efi","iso":"http://10.0.0.9/a.iso"}'
bad 400 "name: required" '{"efi":"http://10.0.0.9/a.efi"}'
bad 409 "an entry or image named rescue exists" "{\"name\":\"rescue\",\"kernel\":\"$WEB_T/k\"}"
[ "$(db_sum "$WEB_T/state/fleetboot.db")" = "$before" ] || fail "bad input changed the database"
[ -e "$WEB_T/state/entries/x" ] && fail "bad input left files"

# CSRF: a session without the X-CSRF-Token header cannot add.
nsx curl -s -m 10 -c "$WEB_T/jar" -o /dev/null -H "$J" \
	-d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$WEB_URL/api/v1/login"
what="POST with a session and no CSRF token"
api POST /api/v1/entries -b "$WEB_T/jar" -H "$J" -d '{"name":"y","efi":"http://10.0.0.9/y.efi"}'
expect 403

# Next boot through the machine object.
what="PATCH next_boot to an unknown item"
api PATCH /api/v1/machines/$MAC "${B[@]}" -d '{"next_boot":"nope"}'
expect 400 "next_boot: no entry or ready image named 'nope'"
what="PATCH next_boot"
api PATCH /api/v1/machines/$MAC "${B[@]}" -d '{"next_boot":"rescue"}'
expect 200 '"next_boot":"rescue"'
fb machine show $MAC | grep -qx "Next boot: rescue, once" || fail "the CLI does not see the next boot"
what="DELETE an entry in use"
api DELETE /api/v1/entries/rescue "${B[@]}"
expect 409 "entry rescue is in use: the next boot of $MAC"
what="PATCH next_boot none"
api PATCH /api/v1/machines/$MAC "${B[@]}" -d '{"next_boot":"none"}'
expect 200 '"next_boot":""'
what="DELETE"
api DELETE /api/v1/entries/rescue "${B[@]}"
expect 200 '"deleted":"rescue"'
[ -e "$WEB_T/state/entries/rescue" ] && fail "DELETE left the files"
what="GET a deleted entry"
api GET /api/v1/entries/rescue "${B[@]}"
expect 404
echo "ok: /api/v1/entries and next_boot"
