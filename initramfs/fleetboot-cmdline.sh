# shellcheck shell=sh
# shellcheck disable=SC2034 # FB_* variables are read by the sourcing script
# fleetboot-cmdline.sh - parse the fleetboot.* kernel parameters.
#
# Sourced by every fleetboot initramfs flavour (the busybox /init, the
# initramfs-tools script and the dracut module), so all of them accept and
# refuse exactly the same command lines. It uses only shell built-ins: the
# initramfs it runs in may have nothing but a POSIX shell (busybox ash,
# klibc sh, dash or bash).
#
#   fb_cmdline_parse "$(cat /proc/cmdline)"
#   0  a fleetboot network boot; the FB_* variables below are set
#   1  no fleetboot.root: not a fleetboot network boot (boot the local root)
#   2  malformed: FB_ERROR says which parameter and why
#
# Variables set: FB_SERVER FB_MACHINE FB_MODE FB_REPORT FB_CRED_URL FB_ROOT
# FB_ROOT_PROTO (nbd|iscsi) FB_ROOT_HOST FB_ROOT_PORT
# FB_ROOT_IQN FB_ROOT_LUN (iscsi) FB_IP FB_TESTS (newline-separated
# fleetboot.test actions) FB_RESCUE_TIMEOUT FB_INSTALL_DISK FB_WARN
# FB_TLS_PORT (fleetboot.tls=PORT: bootd's HTTPS port; the server is
# authenticated against the CA pinned in the initramfs) FB_VERITY (the
# dm-verity root hash, fleetboot.verity=HEX; it implies TLS) FB_IMAGE
# (fleetboot.image=NAME@VERSION, whose rootfs.verity hash tree is fetched)
# FB_HTTP_PORT (fleetboot.http_port, a UKI's: where /boot/MACID/params is).
#
# No secret or credential is ever on the command line (/proc/cmdline is
# readable by every user of the booted machine): the initramfs fetches its
# boot's credential from FB_CRED_URL (the report URL's /credential
# sibling) once, and keeps it in memory only (fleetboot-lib.sh).

# fb__is_digits STR: STR is one or more decimal digits.
fb__is_digits() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

# fb__is_port STR: a TCP port 1..65535 written without leading zeros.
fb__is_port() {
	fb__is_digits "$1" || return 1
	case $1 in 0*) return 1 ;; esac
	[ ${#1} -le 5 ] && [ "$1" -le 65535 ]
}

# fb__is_host STR: an IPv4 address or a DNS name (letters, digits, dots,
# hyphens). IPv6 is not accepted: the root syntax separates fields by ':'.
fb__is_host() {
	case $1 in
	'' | .* | -* | *..* | *[!A-Za-z0-9.-]*) return 1 ;;
	esac
	[ ${#1} -le 253 ]
}

# fb__is_hex STR: lower- or upper-case hex digits only.
fb__is_hex() {
	case $1 in
	'' | *[!0-9a-fA-F]*) return 1 ;;
	esac
	return 0
}

# fb__machine_id STR: print the canonical machine id (lower-case, hyphens)
# of a MAC written with hyphens or colons; fail on anything else.
fb__machine_id() {
	fb__m=$1 fb__out='' fb__n=0
	[ ${#fb__m} -eq 17 ] || return 1
	while [ -n "$fb__m" ]; do
		fb__c=${fb__m%"${fb__m#?}"}
		fb__m=${fb__m#?}
		fb__n=$((fb__n + 1))
		if [ $((fb__n % 3)) -eq 0 ]; then
			case $fb__c in -|:) fb__c=- ;; *) return 1 ;; esac
		else
			case $fb__c in
			[0-9a-f]) ;;
			A) fb__c=a ;; B) fb__c=b ;; C) fb__c=c ;;
			D) fb__c=d ;; E) fb__c=e ;; F) fb__c=f ;;
			*) return 1 ;;
			esac
		fi
		fb__out=$fb__out$fb__c
	done
	printf '%s\n' "$fb__out"
}

# fb__parse_root VALUE: split fleetboot.root into FB_ROOT_* fields.
#   nbd:HOST:PORT                    (export MACID.CREDENTIAL, made later)
#   iscsi:HOST:PORT:TARGET_IQN:LUN   (the IQN itself contains ':')
fb__parse_root() {
	fb__v=$1
	case $fb__v in
	nbd:*)
		FB_ROOT_PROTO=nbd
		fb__v=${fb__v#nbd:}
		FB_ROOT_HOST=${fb__v%%:*}
		[ "$FB_ROOT_HOST" != "$fb__v" ] || { FB_ERROR="fleetboot.root: expected nbd:HOST:PORT, got '$1'"; return 2; }
		FB_ROOT_PORT=${fb__v#*:}
		case $FB_ROOT_PORT in
		*:*)
			FB_ERROR="fleetboot.root: expected nbd:HOST:PORT, got '$1' (the export name is not on the command line: it holds this boot's credential)"
			return 2
			;;
		esac
		;;
	iscsi:*)
		FB_ROOT_PROTO=iscsi
		fb__v=${fb__v#iscsi:}
		FB_ROOT_HOST=${fb__v%%:*}
		[ "$FB_ROOT_HOST" != "$fb__v" ] || { FB_ERROR="fleetboot.root: expected iscsi:HOST:PORT:TARGET_IQN:LUN, got '$1'"; return 2; }
		fb__v=${fb__v#*:}
		FB_ROOT_PORT=${fb__v%%:*}
		[ "$FB_ROOT_PORT" != "$fb__v" ] || { FB_ERROR="fleetboot.root: expected iscsi:HOST:PORT:TARGET_IQN:LUN, got '$1'"; return 2; }
		fb__v=${fb__v#*:}
		FB_ROOT_LUN=${fb__v##*:}
		FB_ROOT_IQN=${fb__v%:*}
		if [ "$FB_ROOT_IQN" = "$fb__v" ]; then
			FB_ERROR="fleetboot.root: expected iscsi:HOST:PORT:TARGET_IQN:LUN, got '$1'"
			return 2
		fi
		if ! fb__is_digits "$FB_ROOT_LUN" || [ ${#FB_ROOT_LUN} -gt 5 ]; then
			FB_ERROR="fleetboot.root: bad LUN '$FB_ROOT_LUN' (a number)"
			return 2
		fi
		case $FB_ROOT_IQN in
		iqn.*:* | eui.* | naa.*) ;;
		*)
			FB_ERROR="fleetboot.root: bad iSCSI target name '$FB_ROOT_IQN' (expected iqn.YYYY-MM.domain:name)"
			return 2
			;;
		esac
		case $FB_ROOT_IQN in
		*[!A-Za-z0-9.:-]*)
			FB_ERROR="fleetboot.root: bad character in iSCSI target name '$FB_ROOT_IQN'"
			return 2
			;;
		esac
		;;
	'')
		FB_ERROR="fleetboot.root: empty value"
		return 2
		;;
	*)
		FB_ERROR="fleetboot.root: unknown protocol in '$1' (expected nbd: or iscsi:)"
		return 2
		;;
	esac
	if ! fb__is_host "$FB_ROOT_HOST"; then
		FB_ERROR="fleetboot.root: bad host '$FB_ROOT_HOST'"
		return 2
	fi
	if ! fb__is_port "$FB_ROOT_PORT"; then
		FB_ERROR="fleetboot.root: bad port '$FB_ROOT_PORT' (1-65535)"
		return 2
	fi
	return 0
}

# fb__check_test ACTION: validate one fleetboot.test action (see README.md).
fb__check_test() {
	case $1 in
	write:/*:* | check:/*:* | append:/*:*)
		fb__p=${1#*:}
		fb__p=${fb__p%%:*}
		case $fb__p in
		*/../* | */.. | /proc/* | /sys/* | /dev/*)
			FB_ERROR="fleetboot.test: refusing path '$fb__p'"
			return 2
			;;
		esac
		;;
	poweroff | reboot | sleep:* | leakscan) ;;
	*)
		FB_ERROR="fleetboot.test: unknown action '$1' (write:/PATH:VALUE, append:/PATH:VALUE, check:/PATH:VALUE, sleep:N, leakscan, poweroff, reboot)"
		return 2
		;;
	esac
	case $1 in sleep:*)
		fb__is_digits "${1#sleep:}" || { FB_ERROR="fleetboot.test: bad sleep '$1'"; return 2; } ;;
	esac
	return 0
}

fb_cmdline_parse() {
	FB_SERVER='' FB_MACHINE='' FB_MODE='' FB_REPORT='' FB_CRED_URL='' FB_ROOT=''
	FB_ROOT_PROTO='' FB_ROOT_HOST='' FB_ROOT_PORT=''
	FB_ROOT_IQN='' FB_ROOT_LUN='' FB_IP='' FB_TESTS='' FB_ERROR='' FB_WARN=''
	FB_RESCUE_TIMEOUT=30 FB_INSTALL_DISK='' FB_TLS_PORT='' FB_VERITY='' FB_IMAGE='' FB_HTTP_PORT=''
	fb__seen_root=0
	# Split on blanks without expanding globs in the words.
	case $- in *f*) fb__noglob=1 ;; *) fb__noglob=0 ;; esac
	set -f
	# shellcheck disable=SC2086 # word splitting is the point here
	set -- $1
	[ $fb__noglob = 1 ] || set +f
	for fb__w in "$@"; do
		fb__val=${fb__w#*=}
		case $fb__w in
		ip=*) FB_IP=$fb__val ;;
		fleetboot.server=*)
			fb__is_host "$fb__val" || { FB_ERROR="fleetboot.server: bad address '$fb__val'"; return 2; }
			FB_SERVER=$fb__val
			;;
		fleetboot.machine=*)
			FB_MACHINE=$(fb__machine_id "$fb__val") || {
				FB_ERROR="fleetboot.machine: bad machine id '$fb__val' (expected 52-54-00-12-34-56)"
				return 2
			}
			;;
		fleetboot.mode=*)
			case $fb__val in
			persistent | ephemeral | readonly | install) FB_MODE=$fb__val ;;
			*)
				FB_ERROR="fleetboot.mode: unknown mode '$fb__val' (persistent, ephemeral, readonly or install)"
				return 2
				;;
			esac
			;;
		fleetboot.root=*)
			fb__seen_root=1
			FB_ROOT=$fb__val
			fb__parse_root "$fb__val" || return 2
			;;
		fleetboot.secret=*)
			# Never on the command line any more: say so, use nothing.
			FB_WARN="${FB_WARN}fleetboot.secret ignored (secrets do not belong on the command line); "
			;;
		fleetboot.report=*)
			case $fb__val in
			http://?*/*) ;;
			*)
				FB_ERROR="fleetboot.report: expected http://ADDR:PORT/boot/MACID/stage, got '$fb__val'"
				return 2
				;;
			esac
			case $fb__val in
			*[!A-Za-z0-9.:/_-]*)
				FB_ERROR="fleetboot.report: bad character in URL '$fb__val'"
				return 2
				;;
			esac
			FB_REPORT=$fb__val
			;;
		fleetboot.test=*)
			fb__check_test "$fb__val" || return 2
			FB_TESTS="$FB_TESTS$fb__val
"
			;;
		fleetboot.rescue_timeout=*)
			fb__is_digits "$fb__val" || { FB_ERROR="fleetboot.rescue_timeout: not a number '$fb__val'"; return 2; }
			FB_RESCUE_TIMEOUT=$fb__val
			;;
		fleetboot.install_disk=*)
			case $fb__val in
			/dev/[a-z]*) FB_INSTALL_DISK=$fb__val ;;
			*) FB_ERROR="fleetboot.install_disk: expected /dev/NAME, got '$fb__val'"; return 2 ;;
			esac
			;;
		fleetboot.tls=*)
			fb__is_port "$fb__val" || { FB_ERROR="fleetboot.tls: not a port '$fb__val'"; return 2; }
			FB_TLS_PORT=$fb__val
			;;
		fleetboot.verity=*)
			case $fb__val in
			*[!0-9a-f]*) FB_ERROR="fleetboot.verity: not a lower-case hex root hash '$fb__val'"; return 2 ;;
			esac
			[ ${#fb__val} -ge 64 ] || { FB_ERROR="fleetboot.verity: root hash too short '$fb__val'"; return 2; }
			FB_VERITY=$fb__val
			;;
		fleetboot.image=*)
			case $fb__val in
			*[!A-Za-z0-9._@-]* | *@*@* | @* | *..*) FB_ERROR="fleetboot.image: expected NAME@VERSION, got '$fb__val'"; return 2 ;;
			*@[1-9]*) ;;
			*) FB_ERROR="fleetboot.image: expected NAME@VERSION, got '$fb__val'"; return 2 ;;
			esac
			fb__is_digits "${fb__val#*@}" || { FB_ERROR="fleetboot.image: expected NAME@VERSION, got '$fb__val'"; return 2; }
			FB_IMAGE=$fb__val
			;;
		fleetboot.http_port=*)
			fb__is_port "$fb__val" || { FB_ERROR="fleetboot.http_port: not a port '$fb__val'"; return 2; }
			FB_HTTP_PORT=$fb__val
			;;
		fleetboot.verity_salt=*)
			# The salt is in the hash tree's superblock too.
			;;
		fleetboot.*=*)
			FB_WARN="${FB_WARN}unknown parameter '${fb__w%%=*}' ignored; "
			;;
		fleetboot.*)
			FB_ERROR="${fb__w}: missing '=VALUE'"
			return 2
			;;
		esac
	done
	if [ $fb__seen_root = 0 ]; then
		# A local boot (for instance a machine installed by install mode).
		[ -z "$FB_MODE" ] || [ "$FB_MODE" = install ] || FB_WARN="${FB_WARN}fleetboot.mode without fleetboot.root ignored; "
		[ "$FB_MODE" != install ] || { FB_ERROR="fleetboot.mode=install needs fleetboot.root"; return 2; }
		return 1
	fi
	[ -n "$FB_MODE" ] || FB_MODE=persistent
	if [ -z "$FB_MACHINE" ]; then
		FB_ERROR="fleetboot.machine: missing (needed with fleetboot.root)"
		return 2
	fi
	# A verified root: the server must be authenticated too (the
	# credential over HTTPS, NBD over TLS), and the hash tree found. The
	# server's copy-on-write would change blocks under the root hash, so
	# only readonly mode (RAM overlay on the verified device) goes.
	if [ -n "$FB_VERITY" ]; then
		# A verified boot talks to an authenticated server, always: without
		# fleetboot.tls, bootd's default HTTPS port.
		[ -n "$FB_TLS_PORT" ] || FB_TLS_PORT=8068
		[ -n "$FB_IMAGE" ] || { FB_ERROR="fleetboot.verity needs fleetboot.image=NAME@VERSION (where the hash tree is)"; return 2; }
		[ "$FB_MODE" = readonly ] || { FB_ERROR="fleetboot.verity: mode $FB_MODE cannot run on a verified root (readonly only)"; return 2; }
	fi
	if [ -n "$FB_TLS_PORT" ] && [ -z "$FB_SERVER" ]; then
		FB_ERROR="fleetboot.tls needs fleetboot.server"
		return 2
	fi
	case $FB_REPORT in
	*/stage) FB_CRED_URL=${FB_REPORT%/stage}/credential ;;
	*)
		FB_ERROR="fleetboot.report: missing or not .../boot/MACID/stage (the boot's credential is fetched beside it)"
		return 2
		;;
	esac
	return 0
}
