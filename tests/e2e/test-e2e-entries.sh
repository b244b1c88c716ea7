#!/usr/bin/env bash
# End to end, issue 15: boot entries from Debian packages as a machine's
# next boot (once), on BIOS clients under TCG.
#  1. A machine assigned an image, next boot `memtest` (memtest86+'s
#     memtest86+x64.bin as a kernel entry, with console=ttyS0,115200 so
#     memtest86+ 6.x draws its screen on the serial port too): its banner
#     "Memtest86+ v6" appears on the serial console; the client is stopped.
#  2. The same machine boots again: the normal boot, to userspace; its next
#     boot is cleared and one next-boot event was recorded.
#  3. Another machine, next boot `debian-installer` (the netboot linux and
#     initrd.gz, console=ttyS0): the installer's kernel starts (its version
#     line on the serial console) and runs the installer's /init from the
#     initrd.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MEMTEST=/boot/memtest86+x64.bin
DI=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
[ -f $MEMTEST ] || skip "no $MEMTEST (Debian package memtest86+; make deps)"
[ -f $DI/linux ] || skip "no $DI/linux (Debian package debian-installer-12-netboot-amd64; make deps)"
lab_server tap0
lab_image normal "console=ttyS0 fleetboot.test=poweroff"
fb entry add memtest --kernel $MEMTEST --cmdline "console=ttyS0,115200" --title "Memtest86+" \
	>/dev/null || fail "entry add memtest"
fb entry add debian-installer --kernel $DI/linux --initrd $DI/initrd.gz \
	--cmdline "console=ttyS0,115200 priority=critical" --title "Debian 12 installer" >/dev/null ||
	fail "entry add debian-installer"
A=52:54:00:e2:e0:15
B=52:54:00:e2:e0:16
fb machine add $A --image normal --mode ephemeral >/dev/null || fail "machine add A"
fb machine add $B --image normal --mode ephemeral >/dev/null || fail "machine add B"
fb machine set $A --next-boot memtest >/dev/null || fail "next boot memtest"
fb machine set $B --next-boot debian-installer >/dev/null || fail "next boot installer"
fb machine show $A | grep -qx "Next boot: memtest, once" || fail "machine show: $(fb machine show $A)"
lab_up "$CONF" "$LAB_DIR/up.log"

# 1. memtest86+, once.
log=$LAB_DIR/memtest.serial
lab_qemu memtest $A tap0 "$log" bios
lab_wait_serial "$log" "Memtest86+ v6" 180 ||
	fail "no memtest86+ banner on the serial console: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
t_mt=$SECONDS
lab_stop_qemu memtest
fb events --machine $A >"$LAB_DIR/events-a1.txt"
grep -q "next-boot  *memtest, once" "$LAB_DIR/events-a1.txt" || fail "no next-boot event: $(cat "$LAB_DIR/events-a1.txt")"
grep -q "kernel  *entry=memtest file=kernel" "$LAB_DIR/events-a1.txt" ||
	fail "memtest's kernel was not fetched from bootd: $(cat "$LAB_DIR/events-a1.txt")"

# 2. The boot after is the normal one.
log=$LAB_DIR/normal.serial
lab_qemu normal $A tap0 "$log" bios
lab_wait_serial "$log" 'FLEETBOOT-USERSPACE-OK\|Memtest86+ v6' 300 ||
	fail "the second boot reached neither userspace nor memtest86+: $(tail -c 2000 "$log")"
grep -aq "Memtest86+" "$log" && fail "memtest86+ again on the second boot: the next boot was not once"
pid=$(cat "$LAB_DIR/normal.pid")
wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || fail "the normal boot did not power off"
[ "$(fb machine show $A --json | jq -r .next_boot)" = "" ] || fail "the next boot was not cleared"
fb events --machine $A >"$LAB_DIR/events-a2.txt"
[ "$(awk '$4 == "next-boot"' "$LAB_DIR/events-a2.txt" | wc -l)" = 1 ] ||
	fail "next-boot events: $(cat "$LAB_DIR/events-a2.txt")"
tail -n 8 "$LAB_DIR/events-a2.txt"
grep -q "ipxe-script  *image=normal@1" "$LAB_DIR/events-a2.txt" || fail "no normal script after memtest"

# 3. The Debian installer's kernel and initrd start.
log=$LAB_DIR/installer.serial
lab_qemu installer $B tap0 "$log" bios
lab_wait_serial "$log" "Linux version 6\." 300 ||
	fail "the installer's kernel did not start: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
lab_wait_serial "$log" "Run /init as init process" 120 ||
	fail "the installer's initrd did not run: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
grep -a "Linux version" "$log" | head -n 1
grep -a "Command line" "$log" | head -n 1
grep -aq "Command line: .*priority=critical" "$log" || fail "not the entry's command line"
lab_stop_qemu installer
fb events --machine $B | grep -q "initrd  *entry=debian-installer file=initrd" ||
	fail "the installer's initrd was not fetched from bootd"
echo "memtest86+ banner after $t_mt s; the entries boot"
