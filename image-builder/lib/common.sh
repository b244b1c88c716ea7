# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# common.sh - helpers every part of fleetboot-image uses: messages and
# errors, progress, the configuration file, sizes, JSON strings, and the
# build's scratch folder (removed, after unmounting anything left in it, on
# every exit).

PROG=fleetboot-image
VERBOSE=${VERBOSE:-0}

# die MSG: one clear line on stderr, exit 1 (a user error).
die() {
	echo "$PROG: $*" >&2
	exit 1
}
usage_die() {
	echo "$PROG: $*" >&2
	echo "usage: $PROG build NAME --from SOURCE [--size SIZE] [--packages a,b]" >&2
	echo "       [--kernel-flavor cloud-amd64|amd64] [--initramfs initramfs-tools|dracut]" >&2
	echo "       [--kernel FILE --initrd FILE] [--cmdline STR]" >&2
	echo "       (see fleetboot-image(1))" >&2
	exit 2
}
step() { echo "$PROG: $*" >&2; }
debug() { [ "$VERBOSE" = 0 ] || echo "$PROG: $*" >&2; }

# run_quiet DESC CMD...: run CMD with its output in the build log; on
# failure print DESC, the command's last lines, and exit 1.
run_quiet() {
	local desc=$1
	shift
	if [ "$VERBOSE" != 0 ]; then
		"$@" >&2 && return 0
		die "$desc failed"
	fi
	if ! "$@" >>"$BUILD_LOG" 2>&1; then
		tail -n 15 "$BUILD_LOG" | sed 's/^/    /' >&2
		die "$desc failed (full log: $BUILD_LOG)"
	fi
}

# progress LABEL DONE TOTAL: a bar on a terminal, a line every 10% else.
_progress_last=-1
progress() {
	local label=$1 done=$2 total=$3 pct
	[ "$total" -gt 0 ] || total=1
	pct=$((done * 100 / total))
	[ $pct -le 100 ] || pct=100
	if [ -t 2 ]; then
		local n=$((pct / 4)) bar
		bar=$(printf '%*s' "$n" '' | tr ' ' '#')
		printf '\r%s: %-24s [%-25s] %3d%%' "$PROG" "$label" "$bar" "$pct" >&2
		[ $pct -lt 100 ] || echo >&2
	elif [ $((pct / 10)) != $((_progress_last / 10)) ] || { [ $pct = 100 ] && [ $_progress_last != 100 ]; }; then
		echo "$PROG: $label: $pct%" >&2
	fi
	_progress_last=$pct
	[ $pct -lt 100 ] || _progress_last=-1
}

# conf_get SECTION KEY DEFAULT: a value from the INI configuration.
conf_get() {
	local v=''
	if [ -r "$CONF" ]; then
		v=$(awk -v want_s="$1" -v want_k="$2" '
			{ sub(/[;#].*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
			/^\[.*\]$/ { s = substr($0, 2, length($0) - 2); next }
			s == want_s && index($0, "=") {
				k = substr($0, 1, index($0, "=") - 1); v = substr($0, index($0, "=") + 1)
				gsub(/[ \t]+$/, "", k); gsub(/^[ \t]+/, "", v)
				if (k == want_k) val = v
			}
			END { print val }' "$CONF")
	fi
	echo "${v:-$3}"
}

# parse_size STR: "512", "64K", "10M", "2G", "1T" (binary units) -> bytes.
parse_size() {
	local s=$1 n u
	n=${s%[KkMmGgTt]}
	u=${s#"$n"}
	case $n in '' | *[!0-9]*) return 1 ;; esac
	case $u in
	'') echo "$n" ;;
	[Kk]) echo $((n << 10)) ;;
	[Mm]) echo $((n << 20)) ;;
	[Gg]) echo $((n << 30)) ;;
	[Tt]) echo $((n << 40)) ;;
	esac
}
human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || echo "$1 bytes"; }

# json_str STR: STR as a JSON string literal.
json_str() {
	local s=$1 out='' c i code
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		'"') out+='\"' ;;
		\\) out+="\\\\" ;;
		*)
			printf -v code '%d' "'$c"
			if [ "$code" -lt 32 ] 2>/dev/null; then
				printf -v c '\\u%04x' "$code"
			fi
			out+=$c
			;;
		esac
	done
	printf '"%s"' "$out"
}

# redact URL: hide a password in iscsi://user%secret@host/...
redact() {
	case $1 in
	*://*%*@*)
		local scheme=${1%%://*} rest=${1#*://}
		local cred=${rest%%@*} tail=${rest#*@}
		printf '%s://%s%%***@%s' "$scheme" "${cred%%%*}" "$tail"
		;;
	*) printf '%s' "$1" ;;
	esac
}

# Mounts made under the scratch folder (chroot /proc, /sys, /dev), undone
# in reverse order by cleanup before anything is removed.
MOUNTS=()
track_mount() { MOUNTS+=("$1"); }
unmount_all() {
	local i m
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[$i]}
		mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
	done
	MOUNTS=()
}
# Is anything still mounted below DIR? Then it must not be rm -rf'd.
mounted_below() {
	local d
	d=$(readlink -f "$1")
	awk -v d="$d/" '{ gsub(/\\040/, " ", $2); if (index($2 "/", d) == 1) { found = 1 } } END { exit !found }' /proc/self/mounts
}
cleanup_work() {
	local rc=$?
	trap - EXIT INT TERM HUP
	unmount_all
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		if mounted_below "$WORK"; then
			echo "$PROG: warning: something is still mounted under $WORK; left in place" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit $rc
}
on_signal() {
	# Stop the step that is running (only our own children, by parent id).
	pkill -TERM -P $$ 2>/dev/null
	# The trap may run inside a step whose output goes to the build log:
	# speak on the stderr the builder started with (saved in STDERR_FD).
	echo >&"${STDERR_FD:-2}"
	echo "$PROG: interrupted; nothing registered" >&"${STDERR_FD:-2}"
	exit 130
}
