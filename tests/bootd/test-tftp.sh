#!/usr/bin/env bash
# bootd TFTP with real clients: tftp-hpa (lockstep, 512), curl (blksize
# 1468, tsize), tftpget (windowsize 16; with simulated loss), a 64 MiB
# file intact (block numbers wrap), traversal and symlink escapes refused,
# writes refused, bad requests answered with errors, the daemon alive.
# timeout: 180
. "$(dirname "$0")/common.sh"
requires tftp cmp sha256sum
G=$BOOTD_TOOLS/tftpget
[ -x "$G" ] || skip "tftpget not built"

bootd_env "dhcp = off"
sed -i '/^interface = /d' "$CONF"
bootd_net
ip -n "$CLI" addr add 10.77.0.2/24 dev bc0
TR=$T/state/tftp
[ -f "$TR/undionly.kpxe" ] || fail "fleetboot init did not put undionly.kpxe in the TFTP root"
head -c $((64 << 20)) /dev/urandom >"$TR/big.bin"
mkdir -p "$TR/sub"
echo "inside" >"$TR/sub/inner.txt"
ln -s ../undionly.kpxe "$TR/sub/link-in"
ln -s /etc/passwd "$TR/evil"
echo secret >"$T/outside.txt"
ln -s ../../outside.txt "$TR/sub/evil2"
bootd_start
cd "$T" || exit 1
in_cli() { ip netns exec "$CLI" "$@"; }

# tftp-hpa, plain RFC 1350 (512-byte blocks, no options).
in_cli tftp 10.77.0.1 -m binary -c get undionly.kpxe "$T/u1" || fail "tftp-hpa get"
cmp "$TR/undionly.kpxe" "$T/u1" || fail "tftp-hpa copy differs"
in_cli tftp 10.77.0.1 -m binary -c get sub/link-in "$T/u2" || fail "symlink inside the root refused"
cmp "$TR/undionly.kpxe" "$T/u2" || fail "symlink copy differs"

# curl with blksize 1468 (and tsize).
in_cli curl -sS --tftp-blksize 1468 -o "$T/u3" tftp://10.77.0.1/undionly.kpxe || fail "curl tftp"
cmp "$TR/undionly.kpxe" "$T/u3" || fail "curl copy differs"

# 64 MiB with windowsize 16 (block numbers wrap past 65535), the client
# polling as firmware does (-p), as make bench measures it too.
in_cli "$G" -p -b 1468 -w 16 -o "$T/big1" 10.77.0.1 big.bin || fail "windowsize transfer"
cmp "$TR/big.bin" "$T/big1" || fail "64 MiB windowsize copy differs"
# 64 MiB at 512-byte blocks: 131073 blocks, the block number wraps once.
in_cli "$G" -o "$T/big2" 10.77.0.1 big.bin || fail "lockstep 512 transfer"
cmp "$TR/big.bin" "$T/big2" || fail "64 MiB lockstep copy differs"
# Lost packets: every 37th DATA dropped by the client; the window resumes
# from the last block ACKed (RFC 7440) and the copy is still intact.
head -c $((8 << 20)) "$TR/big.bin" >"$TR/mid.bin"
in_cli "$G" -b 1400 -w 8 -d 37 -o "$T/mid" 10.77.0.1 mid.bin || fail "lossy windowsize transfer"
cmp "$TR/mid.bin" "$T/mid" || fail "lossy copy differs"
# Windows go out as UDP GSO bursts. When the path MTU falls below the
# block size mid-transfer, the kernel refuses GSO for it: bootd goes on a
# datagram at a time (the kernel fragments them), logs it, and the copy is
# intact. The MTU changes once the first MiB has arrived (a fixed sleep lost
# the race on a fast, idle machine); the loss (-d 13) and the 64 MiB file
# keep the transfer going well past the change.
cp "$TR/big.bin" "$TR/mid16.bin"
in_cli "$G" -b 1468 -w 32 -d 13 -o "$T/mid16" 10.77.0.1 mid16.bin >"$T/mtu.out" 2>&1 &
mtu_pid=$!
for _ in $(seq 1000); do
	[ "$(stat -c %s "$T/mid16" 2>/dev/null || echo 0)" -ge $((1 << 20)) ] && break
	sleep 0.01
done
ip -n "$SRV" link set bs0 mtu 1400
wait $mtu_pid || fail "windowsize transfer across an MTU change: $(cat "$T/mtu.out")"
ip -n "$SRV" link set bs0 mtu 1500
cmp "$TR/mid16.bin" "$T/mid16" || fail "copy across an MTU change differs"
grep -q "mid16.bin to 10.77.0.2: UDP GSO refused" "$T/bootd.log" ||
	fail "GSO refusal not logged (did the transfer end before the MTU change?)"
# A file cut short under a running transfer (an admin overwriting it in
# place): bootd stops with an ERROR the client sees at once, not after its
# timeouts, and says why in its log. Windowed (reads a window ahead) and
# lockstep (reads ahead too) alike.
for w in 4 1; do
	cp "$TR/big.bin" "$TR/shrink$w.bin"
	t0=$(date +%s%N)
	in_cli "$G" -b 512 -w $w -o /dev/null 10.77.0.1 "shrink$w.bin" >"$T/shrink.out" 2>&1 &
	shrink_pid=$!
	sleep 0.3
	truncate -s 1000000 "$TR/shrink$w.bin"
	wait $shrink_pid && fail "window $w: a transfer of a file cut short succeeded (ended first?)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q "shorter than when the transfer began" "$T/shrink.out" ||
		fail "window $w: the client got no error: $(cat "$T/shrink.out")"
	[ $ms -lt 8000 ] || fail "window $w: the client took $ms ms to learn of the error"
	grep -q "shrink$w.bin to 10.77.0.2: the file is shorter" "$T/bootd.log" ||
		fail "window $w: the cut-short file is not logged"
done
bootd_alive
# curl with 64 MiB too (tsize, blksize).
in_cli curl -sS --tftp-blksize 1468 -o "$T/big4" tftp://10.77.0.1/big.bin || fail "curl 64 MiB"
cmp "$TR/big.bin" "$T/big4" || fail "curl 64 MiB copy differs"

# Sorcerer's Apprentice: every ACK sent twice must not make the server
# send any block twice (no loss here, so any repeat is the bug).
out=$(in_cli "$G" -x -o "$T/sa" 10.77.0.1 undionly.kpxe) || fail "duplicate-ACK transfer"
echo "$out"
echo "$out" | grep -q "duplicate data blocks: 0$" || fail "duplicate ACKs caused resends: $out"
cmp "$TR/undionly.kpxe" "$T/sa" || fail "duplicate-ACK copy differs"

# Many at once from one process: all complete.
in_cli "$G" -b 1432 -n 500 10.77.0.1 undionly.kpxe || fail "500 simultaneous transfers"

# Refused: traversal, absolute paths outside the root, symlink escapes,
# missing files, writes.
for f in ../fleetboot.conf sub/../../fleetboot.conf /etc/passwd evil sub/evil2 '..\\fleetboot.conf'; do
	in_cli curl -s --path-as-is -o "$T/x" "tftp://10.77.0.1/$f"
	rc=$?
	# curl: 69 = TFTP access violation, 68 = not found.
	echo "refused $f: curl exit $rc"
	[ $rc = 69 ] || fail "'$f': expected an access violation (curl 69), got $rc"
done
grep -q "escapes the TFTP root" "$T/bootd.log" || fail "symlink escape not logged"
grep -q "'..' is not allowed" "$T/bootd.log" || fail "traversal not logged"
in_cli curl -s -o "$T/x" tftp://10.77.0.1/nope.bin
rc=$?
[ $rc = 68 ] || fail "missing file: expected not found (curl 68), got $rc"
# A file name is the client's to choose: an ordinary user on a client asks
# for one holding a newline and a terminal escape, to forge a line of the
# server's log. The log shows it escaped, on one line.
in_cli setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$G" 10.77.0.1 $'evil\n00:00:00.000 fleetboot-bootd info: forged\e[2J' >/dev/null 2>&1 &&
	fail "a missing file with a forged name was served"
grep -qF "asked for 'evil\x0a00:00:00.000 fleetboot-bootd info: forged\x1b[2J'" "$T/bootd.log" ||
	fail "the forged file name is not logged escaped"
grep -q '^00:00:00.000 fleetboot-bootd info: forged' "$T/bootd.log" &&
	fail "a client's file name forged a log line"
echo data >"$T/up.txt"
in_cli tftp 10.77.0.1 -m binary -c put "$T/up.txt" up.txt 2>&1 | tee "$T/put.log"
[ -e "$TR/up.txt" ] && fail "write request created a file"
grep -qi "read-only\|violation" "$T/put.log" || fail "write not refused with an error"

# Bad requests: bad opcode, bad mode, unterminated name, empty; the
# server answers with an error or stays silent, and keeps serving.
for p in '\0\11junk' '\0\1file\0mail\0' '\0\1file' '\0\1\0octet\0' '\0\4\0\1' 'x'; do
	in_cli bash -c "printf '$p' >/dev/udp/10.77.0.1/69" || true
done
sleep 0.3
grep -q "unsupported transfer mode" "$T/bootd.log" || fail "bad mode not reported"
bootd_alive
in_cli "$G" -b 1432 10.77.0.1 undionly.kpxe || fail "not serving after bad requests"
bootd_stop

# Privilege drop: with the state dir owned by nobody, bootd runs as nobody
# after binding port 69, and still serves and writes its database.
chmod 755 "$T"
chown -R nobody "$T/state"
bootd_start
user=$(ps -o user= -p "$BOOTD_PID")
assert_eq "$user" nobody "user after the privilege drop"
grep -q "running as nobody" "$T/bootd.log" || fail "drop not logged"
# Of root's capabilities only CAP_NET_ADMIN (bit 12) is left, for the
# neighbour entries of unicast DHCP replies.
caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$BOOTD_PID/status")
assert_eq "$caps" 0000000000001000 "effective capabilities after the drop"
caps=$(awk '/^CapPrm:/ { print $2 }' "/proc/$BOOTD_PID/status")
assert_eq "$caps" 0000000000001000 "permitted capabilities after the drop"
in_cli "$G" 10.77.0.1 undionly.kpxe || fail "not serving after dropping privileges"
wait_for 8 sh -c "'$FB_BIN/fleetboot' -c '$CONF' status --json 2>/dev/null | grep -q bootd.daemon" ||
	fail "cannot write the database after dropping privileges"
bootd_stop
echo pass
