#!/usr/bin/env bash
# shellcheck disable=SC2034 # $what is the label expect() (lib-web.sh) prints
# timeout: 120
# /api/v1/groups (issue 15): every route refuses without a session or
# token (401), and a session without its CSRF token cannot change anything
# (403); POST, GET, PATCH, DELETE with the CLI's field names; 400 naming the
# field for bad values and unknown fields, 404 for an unknown group, 409 for
# a name that exists and for DELETE of a group in use (nothing changed),
# ?force=1 takes its machines out; a machine's effective settings and their
# origin (GET /machines/MAC "from"), its own setting winning; what the API
# does is what the CLI sees.
. "$(dirname "$0")/lib-web.sh"
requires jq sqlite3
web_setup
J='Content-Type: application/json'
A=52-54-00-aa-00-21
B=52-54-00-aa-00-22
db=$WEB_T/state/fleetboot.db

for route in "GET /api/v1/groups" "POST /api/v1/groups" "GET /api/v1/groups/lab" \
	"PATCH /api/v1/groups/lab" "DELETE /api/v1/groups/lab"; do
	# shellcheck disable=SC2086 # split "METHOD PATH" on purpose
	set -- $route
	what="unauthenticated $route"
	api "$1" "$2" -H "$J" -d '{}'
	expect 401 "authentication required"
done
TOKEN=$(fb token create groups-test 2>/dev/null)
[ -n "$TOKEN" ] || fail "no API token"
T=(-H "Authorization: Bearer $TOKEN" -H "$J")

what="POST a group"
api POST /api/v1/groups "${T[@]}" -d '{"name":"lab","mode":"ephemeral","protocol":"iscsi","menu_timeout":12}'
expect 201 '"name":"lab"'
assert_eq "$(echo "$BODY" | jq -c '[.mode, .protocol, .image, .menu_timeout, .menu_default, .machines]')" \
	'["ephemeral","iscsi","",12,"",0]' "POST answer"
assert_eq "$(fb group show lab --json | jq -c '[.mode, .protocol, .menu_timeout]')" \
	'["ephemeral","iscsi",12]' "the CLI sees the POST"
fb machine add $A --group lab >/dev/null || fail "machine add A"
fb machine add $B --group lab --mode persistent >/dev/null || fail "machine add B"

what="GET the list"
api GET /api/v1/groups "${T[@]}"
expect 200
assert_eq "$(echo "$BODY" | jq -c '[.groups[] | [.name, .machines]]')" '[["lab",2]]' "list"
what="GET one"
api GET /api/v1/groups/lab "${T[@]}"
expect 200 '"menu_timeout":12'
what="a machine's effective settings and their origin"
api GET /api/v1/machines/$A "${T[@]}"
expect 200
assert_eq "$(echo "$BODY" | jq -r '[.mode, .from.mode, .protocol, .from.protocol, .from.image] | join(" ")')" \
	"ephemeral group iscsi group default" "A inherits"
api GET /api/v1/machines/$B "${T[@]}"
assert_eq "$(echo "$BODY" | jq -r '[.mode, .from.mode] | join(" ")')" "persistent machine" \
	"B's own mode wins"

# Secure Boot runs only readonly, judged on each machine's effective
# settings: the group cannot turn it on while B keeps its own persistent
# mode, and B cannot take a writable mode of its own under it afterwards.
what="PATCH secure_boot on over a member's own persistent mode"
db_settle "$db"
sum=$(db_sum "$db")
api PATCH /api/v1/groups/lab "${T[@]}" -d '{"mode":"readonly","menu_timeout":null,"secure_boot":"on"}'
expect 400 "mode persistent would write blocks the root hash covers (machine 52-54-00-aa-00-22: secure-boot from group, mode from machine)"
[ "$(db_sum "$db")" = "$sum" ] || fail "a refused group PATCH changed the database"
what="PATCH a machine's mode back to its group's"
api PATCH /api/v1/machines/$B "${T[@]}" -d '{"mode":"inherit"}'
expect 200 '"mode":"ephemeral"'
what="PATCH"
api PATCH /api/v1/groups/lab "${T[@]}" -d '{"mode":"readonly","menu_timeout":null,"secure_boot":"on"}'
expect 200 '"mode":"readonly"'
assert_eq "$(echo "$BODY" | jq -c '[.menu_timeout, .secure_boot, .protocol]')" '[null,"on","iscsi"]' \
	"PATCH answer (others unchanged)"
assert_eq "$(fb machine show $A --json | jq -r '.mode + " " + .from.mode + " " + .secure_boot')" \
	"readonly group on" "the CLI sees the inherited change"
assert_eq "$(fb machine show $B --json | jq -r '.mode + " " + .from.mode + " " + .from.secure_boot')" \
	"readonly group group" "B inherits the group's mode and Secure Boot"
what="PATCH a writable mode of its own under the group's Secure Boot"
db_settle "$db"
sum=$(db_sum "$db")
api PATCH /api/v1/machines/$B "${T[@]}" -d '{"mode":"persistent"}'
expect 400 "mode persistent would write blocks the root hash covers (machine 52-54-00-aa-00-22: secure-boot from group, mode from machine)"
[ "$(db_sum "$db")" = "$sum" ] || fail "a refused machine PATCH changed the database"

db_settle "$db"
before=$(db_sum "$db")
bad() { # CODE SUBSTRING METHOD PATH BODY
	what="$3 $4 $5"
	api "$3" "$4" "${T[@]}" -d "$5"
	expect "$1" "$2"
}
bad 400 "mode: 'sometimes' is not one of" POST /api/v1/groups '{"name":"x","mode":"sometimes"}'
bad 400 "protocol: 'nfs' is not nbd or iscsi" PATCH /api/v1/groups/lab '{"protocol":"nfs"}'
bad 400 "secure_boot: 'yes' is not on or off" PATCH /api/v1/groups/lab '{"secure_boot":"yes"}'
bad 400 "menu_timeout: must be seconds from 0 to 3600" PATCH /api/v1/groups/lab '{"menu_timeout":4000}'
bad 400 "menu_timeout: must be seconds" PATCH /api/v1/groups/lab '{"menu_timeout":"5"}'
bad 400 "image: no image nope" PATCH /api/v1/groups/lab '{"image":"nope"}'
bad 400 "menu_default: no image or entry named nope" PATCH /api/v1/groups/lab '{"menu_default":"nope"}'
bad 400 "name: 'a b' is not a valid group name" POST /api/v1/groups '{"name":"a b"}'
bad 400 "name: required" POST /api/v1/groups '{"mode":"ephemeral"}'
bad 400 "name: cannot be changed" PATCH /api/v1/groups/lab '{"name":"lab2"}'
bad 400 "colour: unknown field" PATCH /api/v1/groups/lab '{"colour":"red"}'
bad 400 "mode: must be a string" PATCH /api/v1/groups/lab '{"mode":1}'
bad 409 "group lab already exists" POST /api/v1/groups '{"name":"lab"}'
bad 404 "group: not found" PATCH /api/v1/groups/nope '{"mode":"ephemeral"}'
bad 409 "group lab is in use by 2 machines" DELETE /api/v1/groups/lab ''
[ "$(db_sum "$db")" = "$before" ] || fail "bad input changed the database"

# CSRF: a session without the X-CSRF-Token header cannot change a group.
nsx curl -s -m 10 -c "$WEB_T/jar" -o /dev/null -H "$J" \
	-d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$WEB_URL/api/v1/login"
for route in "POST /api/v1/groups" "PATCH /api/v1/groups/lab" "DELETE /api/v1/groups/lab"; do
	# shellcheck disable=SC2086 # split "METHOD PATH" on purpose
	set -- $route
	what="$route with a session and no CSRF token"
	api "$1" "$2" -b "$WEB_T/jar" -H "$J" -d '{"name":"y"}'
	expect 403 "X-CSRF-Token"
done
what="GET with the session"
api GET /api/v1/groups/lab -b "$WEB_T/jar"
expect 200 '"name":"lab"'
[ "$(db_sum "$db")" = "$before" ] || fail "a request without CSRF changed the database"

what="DELETE with force"
api DELETE "/api/v1/groups/lab?force=1" "${T[@]}"
expect 200 '"machines":2'
assert_eq "$(fb machine show $B --json | jq -r '.group + "|" + .mode + "|" + .from.mode + "|" + .secure_boot')" \
	"|persistent|default|off" "B out of the group, back to the defaults"
what="GET a deleted group"
api GET /api/v1/groups/lab "${T[@]}"
expect 404
assert_eq "$(fb group list --json)" "[]" "the CLI sees no group"
echo "ok: /api/v1/groups"
