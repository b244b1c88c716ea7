#!/usr/bin/env bash
# End to end, scenario 8: a machine set to `menu` gets an iPXE menu listing
# the ready images and a local-disk item; nobody chooses, and after the
# timeout it boots the default ([bootd] menu_default).
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv" menu_default=kiosk menu_timeout=3)
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
lab_image kiosk "console=ttyS0 fleetboot.test=write:/data/m:menu fleetboot.test=check:/data/m:menu fleetboot.test=poweroff"
lab_image other "console=ttyS0 fleetboot.test=poweroff"
MAC=52:54:00:e2:e0:08
fb machine add $MAC --image menu --mode ephemeral >/dev/null || fail "machine add"
lab_up "$CONF" "$LAB_DIR/up.log"
log=$LAB_DIR/menu.serial
lab_boot menu $MAC tap0 "$log" bios 300
# The menu as iPXE drew it on the console (with terminal escapes removed).
sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" >"$log.txt"
grep -aq "fleetboot: $(echo $MAC | tr : -)" "$log.txt" || fail "no menu title on the console"
grep -aq "kiosk@1" "$log.txt" || fail "the menu does not list kiosk@1"
grep -aq "other@1" "$log.txt" || fail "the menu does not list other@1"
grep -aq "Boot from the local disk" "$log.txt" || fail "the menu has no local-disk item"
grep -aq 'FLEETBOOT-TEST check /data/m ok' "$log" || fail "the default image did not boot"
fb events --machine $MAC --stage ipxe-script | tee "$LAB_DIR/scripts.txt"
grep -q 'menu' "$LAB_DIR/scripts.txt" || fail "no menu script recorded"
grep -q 'image=kiosk@1' "$LAB_DIR/scripts.txt" || fail "the default choice was not recorded"
lab_assert_events "$CONF" $MAC 'ipxe-script ipxe-script kernel initrd credential root-attached userspace'
echo "scenario 8 passed"
