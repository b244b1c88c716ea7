#!/usr/bin/env bash
# bench/bootd-tftp.sh - TFTP side by side over a veth between two network
# namespaces, same files, same clients, one server at a time:
#   1. a 64 MiB file in lockstep, blksize 1468, with curl, with tftpget
#      (whose own cost per block is lower, so it shows more of the
#      server's), and with tftpget -p, which polls its socket without
#      sleeping as PXE firmware polls its NIC: bootd, dnsmasq, tftpd-hpa;
#      each figure the median of 3
#   2. the same file with windowsize 16, 64 and 256 (tftpget and tftpget -p;
#      RFC 7440), bootd, against dnsmasq's best lockstep figure
#   3. 1000 simultaneous transfers of undionly.kpxe (tftpget -n 1000, one
#      process), bootd against dnsmasq (--tftp-max 1000)
set -u
. "$(dirname "$0")/../tests/bootd/common.sh"
requires curl
export BOOTD_ARGS="" # read by tests/bootd/common.sh: no -v in benchmarks
G=$BOOTD_TOOLS/tftpget
[ -x "$G" ] || skip "tftpget not built"
N=${FB_BENCH_TFTP_CLIENTS:-1000}

bootd_env "dhcp = off"
sed -i '/^interface = /d' "$CONF"
bootd_net
ip -n "$CLI" addr add 10.77.0.2/24 dev bc0
R=$T/state/tftp
head -c $((64 << 20)) /dev/urandom >"$R/big.bin"
chmod -R a+rX "$T"

median3() { # CMD... -> the median of three runs' figures
	local a b c
	a=$("$@") b=$("$@") c=$("$@")
	printf '%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p
}
curl_lockstep() { # -> MB/s with curl, blksize 1468
	local t
	t=$(ip netns exec "$CLI" curl -s --tftp-blksize 1468 -o /dev/null -w '%{time_total}' \
		tftp://10.77.0.1/big.bin) || { echo 0; return; }
	awk -v t="$t" 'BEGIN { printf "%.1f", 67108864 / t / 1e6 }'
}
windowed() { # WINDOW (0: no windowsize option, lockstep) [-p] -> MB/s with tftpget
	ip netns exec "$CLI" "$G" ${2:-} -b 1468 -w "$1" 10.77.0.1 big.bin |
		awk '/^ok/ { printf "%.1f", $(NF-1) } !/^ok/ { print 0 }'
}
lockstep() { # -> "CURL TFTPGET TFTPGET_POLLING" MB/s, medians of 3
	echo "$(median3 curl_lockstep) $(median3 windowed 0) $(median3 windowed 0 -p)"
}
many() { # -> "SECONDS OK/N"
	ip netns exec "$CLI" "$G" -b 1468 -n "$N" 10.77.0.1 undionly.kpxe 2>/dev/null |
		awk '{ print $(NF-3), $2 }'
}

bootd_start
read -r b_lock b_lockg b_lockp < <(lockstep)
b_w16=$(median3 windowed 16)
b_w64=$(median3 windowed 64)
b_w256=$(median3 windowed 256)
b_w16p=$(median3 windowed 16 -p)
b_w64p=$(median3 windowed 64 -p)
b_w256p=$(median3 windowed 256 -p)
read -r b_many_s b_many_ok < <(many)
bootd_stop

d_lock=0 d_lockg=0 d_lockp=0 d_many_s=0 d_many_ok=-
if command -v dnsmasq >/dev/null; then
	# Enough descriptors for a socket and a file per transfer (fair to dnsmasq).
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	ip netns exec "$SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface=bs0 --bind-interfaces --enable-tftp --tftp-root="$R" --user=root \
		--tftp-max=$((N + 50)) >"$T/dnsmasq.log" 2>&1 &
	echo $! >"$T/dm.pid"
	kill_at_exit "$T/dm.pid"
	sleep 1
	read -r d_lock d_lockg d_lockp < <(lockstep)
	read -r d_many_s d_many_ok < <(many)
	kill "$(cat "$T/dm.pid")"
	sleep 0.5
fi

h_lock=0 h_lockg=0 h_lockp=0
if command -v in.tftpd >/dev/null; then
	ip netns exec "$SRV" in.tftpd -L -s "$R" -a 10.77.0.1:69 -u root >"$T/hpa.log" 2>&1 &
	echo $! >"$T/hpa.pid"
	kill_at_exit "$T/hpa.pid"
	sleep 0.5
	read -r h_lock h_lockg h_lockp < <(lockstep)
	kill "$(cat "$T/hpa.pid")"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
d_best=$(printf '%s\n' "$d_lock" "$d_lockg" "$d_lockp" | sort -n | tail -1)
row() { printf '%-46s %12s %12s %12s\n' "$@"; }
row "TFTP 64 MiB (MB/s)" bootd dnsmasq tftpd-hpa
row "lockstep, blksize 1468 (curl)" "$b_lock" "$d_lock" "$h_lock"
row "lockstep, blksize 1468 (tftpget)" "$b_lockg" "$d_lockg" "$h_lockg"
row "lockstep, blksize 1468 (tftpget -p, polling)" "$b_lockp" "$d_lockp" "$h_lockp"
row "windowsize 16, blksize 1468 (tftpget)" "$b_w16"
row "windowsize 64, blksize 1468 (tftpget)" "$b_w64"
row "windowsize 256, blksize 1468 (tftpget)" "$b_w256"
row "windowsize 16, blksize 1468 (tftpget -p)" "$b_w16p"
row "windowsize 64, blksize 1468 (tftpget -p)" "$b_w64p"
row "windowsize 256, blksize 1468 (tftpget -p)" "$b_w256p"
echo "lockstep bootd / dnsmasq, curl:          $(ratio "$b_lock" "$d_lock")  (target >= 1.5x)"
echo "lockstep bootd / dnsmasq, tftpget:       $(ratio "$b_lockg" "$d_lockg")  (target >= 1.5x)"
echo "lockstep bootd / dnsmasq, tftpget -p:    $(ratio "$b_lockp" "$d_lockp")  (target >= 1.5x)"
echo "dnsmasq's best lockstep figure: $d_best MB/s"
echo "windowsize 16 bootd / dnsmasq lockstep:  $(ratio "$b_w16" "$d_best") (tftpget)," \
	"$(ratio "$b_w16p" "$d_best") (tftpget -p)  (target >= 20x)"
echo "windowsize 64 bootd / dnsmasq lockstep:  $(ratio "$b_w64" "$d_best") (tftpget)," \
	"$(ratio "$b_w64p" "$d_best") (tftpget -p)  (target >= 20x)"
echo "windowsize 256 bootd / dnsmasq lockstep: $(ratio "$b_w256" "$d_best") (tftpget)," \
	"$(ratio "$b_w256p" "$d_best") (tftpget -p)"
printf '%-46s %12s %12s\n' "$N x undionly.kpxe at once (seconds, ok)" "$b_many_s $b_many_ok" \
	"$d_many_s $d_many_ok"
echo "simultaneous: bootd time / dnsmasq time: $(ratio "$b_many_s" "$d_many_s")  (target <= 0.5x)"
