#!/usr/bin/env bash
# End to end, issue 15: PXELINUX for a BIOS client set to --loader
# pxelinux (QEMU's NIC ROM is iPXE; bootd hands it pxelinux.0 all the
# same, never the iPXE script).
#  1. Its next boot is the `memtest` entry: PXELINUX's config (made by
#     bootd for this machine) has it as DEFAULT; memtest86+ comes over TFTP
#     and its banner "Memtest86+ v6" appears on the serial console.
#  2. The boot after is the normal one: through PXELINUX's vesamenu menu
#     (its timeout) to the default, the machine's image, kernel and initrd
#     over TFTP, to userspace; its next boot is cleared, one next-boot
#     event, and no iPXE script was ever asked for.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MEMTEST=/boot/memtest86+x64.bin
[ -f $MEMTEST ] || skip "no $MEMTEST (Debian package memtest86+; make deps)"
[ -f /usr/lib/PXELINUX/pxelinux.0 ] || skip "no pxelinux.0 (Debian package pxelinux; make deps)"
[ -f /usr/lib/syslinux/modules/bios/vesamenu.c32 ] ||
	skip "no vesamenu.c32 (Debian package syslinux-common; make deps)"
lab_server tap0
lab_image normal "console=ttyS0 fleetboot.test=poweroff"
fb entry add memtest --kernel $MEMTEST --cmdline "console=ttyS0,115200" --title "Memtest86+" \
	>/dev/null || fail "entry add memtest"
A=52:54:00:e2:e0:1e
MA=52-54-00-e2-e0-1e
fb machine add $A --image normal --mode ephemeral --loader pxelinux >/dev/null || fail "machine add"
fb machine set $A --next-boot memtest >/dev/null || fail "next boot memtest"
lab_up "$CONF" "$LAB_DIR/up.log"

# 1. memtest86+ through PXELINUX, once.
log=$LAB_DIR/memtest.serial
lab_qemu memtest $A tap0 "$log" bios
t0=$SECONDS
lab_wait_serial "$log" "Memtest86+ v6" 180 ||
	fail "no memtest86+ banner on the serial console: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
t_mt=$((SECONDS - t0))
lab_stop_qemu memtest
fb events --machine $A >"$LAB_DIR/events-1.txt"
for p in "tftp  *file=pxelinux.0" "tftp  *file=ldlinux.c32" "tftp  *file=pxelinux.cfg/01-$MA" \
	"next-boot  *memtest, once" "ipxe-script  *next-boot=memtest pxelinux" \
	"kernel  *entry=memtest file=kernel via=tftp"; do
	grep -q "$p" "$LAB_DIR/events-1.txt" || fail "boot 1: no event '$p': $(cat "$LAB_DIR/events-1.txt")"
done

# 2. The normal boot, through the menu to the image, to userspace.
log=$LAB_DIR/normal.serial
t0=$SECONDS
lab_boot normal $A tap0 "$log" bios 300
t_normal=$((SECONDS - t0))
# (vesamenu draws its menu on the serial port too, "Memtest86+" among the
# labels: the banner is what says memtest86+ ran.)
grep -a "fleetboot: $MA" "$log" | head -n 1 | tr -cd '[:print:]\n' | cut -c1-100
grep -aq "fleetboot: $MA" "$log" || fail "PXELINUX's menu (its title) is not on the serial console"
grep -aq "Memtest86+ v6" "$log" && fail "memtest86+ again on the second boot: the next boot was not once"
[ "$(fb machine show $A --json | jq -r .next_boot)" = "" ] || fail "the next boot was not cleared"
fb events --machine $A >"$LAB_DIR/events-2.txt"
tail -n 14 "$LAB_DIR/events-2.txt"
for p in "tftp  *file=vesamenu.c32" "ipxe-script  *image=normal@1 pxelinux" \
	"kernel  *image=normal@1 via=tftp" "initrd  *image=normal@1 via=tftp" "userspace"; do
	grep -q "$p" "$LAB_DIR/events-2.txt" || fail "boot 2: no event '$p'"
done
[ "$(awk '$4 == "next-boot"' "$LAB_DIR/events-2.txt" | wc -l)" = 1 ] ||
	fail "next-boot events: $(cat "$LAB_DIR/events-2.txt")"
grep -q "ipxe-script  *image=normal@1$" "$LAB_DIR/events-2.txt" &&
	fail "an iPXE script was served to the PXELINUX machine"
grep -q "refused\|undionly" "$LAB_DIR/events-2.txt" && fail "unexpected events: $(cat "$LAB_DIR/events-2.txt")"
echo "memtest86+ banner after $t_mt s; the normal boot through PXELINUX took $t_normal s"
