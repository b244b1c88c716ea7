#!/usr/bin/env bash
# End to end, issue 15: the two kinds of boot entry test-e2e-entries.sh
# does not boot, each as a machine's next boot, under TCG.
#  1. A UEFI (OVMF) client whose next boot is an --efi entry, memtest86+'s
#     memtest86+x64.efi: OVMF's PXE -> ipxe.efi -> the entry's script
#     chains program.efi from bootd, and memtest86+ runs. Started as a UEFI
#     program it takes no command line, so it has no serial console: the
#     test reads the screen instead (a QEMU screendump over QMP) and
#     requires memtest86+'s title bar, "Memtest86+ v6.10", pixel for pixel
#     (tests/e2e/screendump.py prints it as text in the log).
#  2. A BIOS client whose next boot is an --iso entry: an ISO built here
#     (isolinux, the image's kernel, an initramfs whose /init prints a
#     marker and powers off, made with xorriso) is booted by iPXE's sanboot
#     over HTTP from bootd (Range requests), and its marker appears on the
#     serial console.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires xorriso cpio gzip
PY=/usr/bin/python3
MEMTEST_EFI=/boot/memtest86+x64.efi
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -x $PY ] || skip "no $PY (Debian package python3)"
[ -f $MEMTEST_EFI ] || skip "no $MEMTEST_EFI (Debian package memtest86+; make deps)"
[ -f $ISOLINUX ] || skip "no $ISOLINUX (Debian package isolinux; make deps)"
[ -f $LDLINUX ] || skip "no $LDLINUX (Debian package syslinux-common; make deps)"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (Debian package ovmf; make deps)"
[ -x /bin/busybox ] || skip "no /bin/busybox (Debian package busybox-static; make deps)"
SHOT="$PY $(dirname "$0")/screendump.py"
# memtest86+ 6.10's title bar (x 0-223, y 40-55 of its 640x480 screen).
TITLE_SHA=68ec181e5c17bf91ac102e7fdba81a64c69e37bdd4e7c44012ffbf7b6c856c1a

lab_server tap0 tap1
# The busybox image brings the kernel the ISO boots.
lab_image tiny "console=ttyS0"
KERNEL=$LAB_DIR/srv/state/images/tiny/1/vmlinuz
[ -f "$KERNEL" ] || fail "no kernel in the image: $(ls "$LAB_DIR/srv/state/images/tiny/1")"

# The ISO: isolinux boots the kernel with an initramfs that prints a marker.
D=$LAB_DIR/iso
mkdir -p "$D/root/isolinux" "$D/init/bin" "$D/init/dev" "$D/init/proc"
cp $ISOLINUX $LDLINUX "$D/root/isolinux/"
cp "$KERNEL" "$D/root/vmlinuz"
cp /bin/busybox "$D/init/bin/busybox"
cat >"$D/init/init" <<'X'
#!/bin/busybox sh
/bin/busybox echo "FLEETBOOT-ISO-MARKER $(/bin/busybox uname -r) from the ISO"
/bin/busybox poweroff -f
X
chmod 755 "$D/init/init"
mknod "$D/init/dev/console" c 5 1
(cd "$D/init" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$D/root/initrd.gz" || fail "initramfs"
cat >"$D/root/isolinux/isolinux.cfg" <<'X'
SERIAL 0 115200
DEFAULT marker
PROMPT 0
TIMEOUT 0
LABEL marker
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 panic=-1
X
xorriso -as mkisofs -quiet -R -o "$D/marker.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$D/root" >"$D/xorriso.log" 2>&1 ||
	fail "xorriso: $(cat "$D/xorriso.log")"

fb entry add memtest-efi --efi $MEMTEST_EFI --title "Memtest86+ (UEFI)" >/dev/null || fail "entry add memtest-efi"
fb entry add marker-iso --iso "$D/marker.iso" --title "Marker ISO" >/dev/null || fail "entry add marker-iso"
U=52:54:00:e2:ef:01
I=52:54:00:e2:15:01
fb machine add $U --image tiny --mode ephemeral >/dev/null || fail "machine add U"
fb machine add $I --image tiny --mode ephemeral >/dev/null || fail "machine add I"
fb machine set $U --next-boot memtest-efi >/dev/null || fail "next boot memtest-efi"
fb machine set $I --next-boot marker-iso >/dev/null || fail "next boot marker-iso"
lab_up "$CONF" "$LAB_DIR/up.log"

# 1. UEFI: memtest86+'s EFI program, chained by iPXE.
log=$LAB_DIR/uefi.serial
QMP=$LAB_DIR/uefi.qmp
t0=$SECONDS
lab_qemu uefi $U tap0 "$log" uefi -qmp "unix:$QMP,server,nowait"
lab_wait_serial "$log" "booting entry memtest-efi" 180 ||
	fail "no entry script on the UEFI client: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
shown=
end=$((SECONDS + 120))
while [ $SECONDS -lt $end ]; do
	sleep 5
	shot=$($SHOT "$QMP" "$LAB_DIR/uefi-screen" 0 40 224 16) || continue
	if [ "$(printf '%s\n' "$shot" | head -n 1)" = $TITLE_SHA ]; then
		shown=1
		break
	fi
done
cp "$LAB_DIR/uefi-screen.png" "$FB_ARTIFACTS/e2e-memtest-efi-screen.png" 2>/dev/null
printf '%s\n' "$shot" | tail -n +2
[ -n "$shown" ] || fail "memtest86+'s title bar is not on the UEFI client's screen (last screendump: $FB_ARTIFACTS/e2e-memtest-efi-screen.png)"
t_efi=$((SECONDS - t0))
lab_stop_qemu uefi
fb events --machine $U >"$LAB_DIR/events-u.txt"
grep -q "next-boot  *memtest-efi, once" "$LAB_DIR/events-u.txt" || fail "no next-boot event: $(cat "$LAB_DIR/events-u.txt")"
grep -q "kernel  *entry=memtest-efi file=program.efi" "$LAB_DIR/events-u.txt" ||
	fail "the EFI program was not fetched from bootd: $(cat "$LAB_DIR/events-u.txt")"

# 2. BIOS: the ISO, by sanboot over HTTP.
log=$LAB_DIR/iso.serial
t0=$SECONDS
lab_qemu iso $I tap1 "$log" bios
lab_wait_serial "$log" "FLEETBOOT-ISO-MARKER" 240 ||
	fail "no marker from the ISO on the serial console: $(tail -c 2000 "$log" | tr -cd '[:print:]\n')"
t_iso=$((SECONDS - t0))
grep -a "FLEETBOOT-ISO-MARKER" "$log" | tr -d '\r' | head -n 1
grep -aq "booting entry marker-iso" "$log" || fail "not the entry's script"
pid=$(cat "$LAB_DIR/iso.pid")
wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || fail "the ISO's system did not power off"
fb events --machine $I >"$LAB_DIR/events-i.txt"
grep -q "next-boot  *marker-iso, once" "$LAB_DIR/events-i.txt" || fail "no next-boot event: $(cat "$LAB_DIR/events-i.txt")"
echo "memtest86+ (UEFI) on screen after $t_efi s; the ISO's marker after $t_iso s"
