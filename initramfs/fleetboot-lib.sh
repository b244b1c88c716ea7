# shellcheck shell=sh
# shellcheck disable=SC2034 # FB_* variables are read by the sourcing script
# fleetboot-lib.sh - what a fleetboot initramfs does once the command line
# is parsed (fleetboot-cmdline.sh): report stages, attach the root device
# over NBD or iSCSI, mount it (with a RAM overlay in readonly mode), give
# the machine its hostname and machine-id, install to a local disk, and
# fall back to a rescue shell with the cause on the console.
#
# Shared by the busybox /init, the initramfs-tools script and the dracut
# module. Needs a shell plus busybox-style tools (wget or curl, md5sum,
# modprobe, mount, dd); each flavour's hook copies them in.

FB_RUN=/run/fleetboot
# Scratch space (wget's errors while fetching the credential): in the
# initramfs's own root file system, which switch_root empties (unlike
# /run, which moves into the booted system).
FB_RUN_PRIVATE=/tmp/fleetboot-private
FB_NBD_DEV=/dev/nbd0
# The site CA a verified boot checks the server against (pinned at image
# build: mkinitramfs-busybox --ca), and the name on the server's
# certificate (`fleetboot init` issues it for this name at every site).
FB_CA=/etc/fleetboot/ca-cert.pem
FB_TLS_NAME=fleetboot-server
FB_VERITY_NAME=fleetboot-verified

fb_log() {
	echo "fleetboot: $*"
	# Also to the console when stdout is somewhere else (initramfs-tools
	# may redirect), so the cause of a failure is always visible.
	if [ -w /dev/console ] && [ ! -t 1 ]; then
		echo "fleetboot: $*" >/dev/console 2>/dev/null || :
	fi
}

# fb_report STAGE [QUERY]: POST the stage to fleetboot.report (QUERY, e.g.
# root_hash=HEX, is added to the URL; never a secret). Never blocks the
# boot for long and never fails it: reports are for the admin's view.
# bootd takes a report from the machine's own address; the boot's
# credential (which bootd also takes, in X-Fleetboot-Credential) is not
# sent from here, because it would be in wget's argv, and busybox's
# timeout leaves a watcher process with a copy of that argv behind.
fb_report() {
	[ -n "${FB_REPORT:-}" ] || return 0
	fb_url="$FB_REPORT?name=$1${2:+&$2}"
	# busybox-static's wget crashes with -T (Debian 1.35): bound it with
	# timeout instead.
	if command -v wget >/dev/null 2>&1; then
		timeout 10 wget -q -O /dev/null --post-data "stage=$1" "$fb_url" 2>/dev/null ||
			fb_log "could not report stage $1 to $FB_REPORT"
	elif command -v curl >/dev/null 2>&1; then
		curl -fsS -m 5 -o /dev/null -d "stage=$1" "$fb_url" 2>/dev/null ||
			fb_log "could not report stage $1 to $FB_REPORT"
	else
		fb_log "no wget or curl: stage $1 not reported"
	fi
	return 0
}

# fb_rescue CAUSE: print the cause, wait fleetboot.rescue_timeout seconds
# (so a watching admin or a serial log sees it), then open a shell on the
# console. Leaving the shell reboots.
fb_rescue() {
	fb_log "BOOT FAILED: $*"
	echo "FLEETBOOT-BOOT-FAILED: $*" >/dev/console 2>/dev/null || :
	fb_log "rescue shell in ${FB_RESCUE_TIMEOUT:-30} s"
	sleep "${FB_RESCUE_TIMEOUT:-30}"
	if command -v setsid >/dev/null 2>&1 && command -v cttyhack >/dev/null 2>&1; then
		setsid cttyhack sh
	else
		sh </dev/console >/dev/console 2>&1
	fi
	fb_log "rescue shell ended: rebooting"
	sync
	reboot -f
}

fb_modprobe() {
	for fb_mod in "$@"; do
		modprobe -q "$fb_mod" 2>/dev/null || :
	done
}

# fb_wait_file SECONDS PATH: wait for a device node or file to appear.
fb_wait_file() {
	fb_n=$(($1 * 10))
	while [ ! -e "$2" ]; do
		[ $fb_n -gt 0 ] || return 1
		fb_n=$((fb_n - 1))
		sleep 0.1
	done
}

# fb_fetch_credential: this boot's credential, from bootd, into FB_CRED (a
# shell variable of this initramfs only: never exported, never written to
# a file, gone with the initramfs at switch_root). bootd hands it out once
# per boot, so a refusal (HTTP 403) is final: someone already has it, and
# bootd recorded a takeover-suspected event. Only when the server could
# not be reached is the request tried again.
fb_fetch_credential() {
	FB_CRED=''
	[ -n "${FB_CRED_URL:-}" ] || { FB_ERROR="no credential URL (fleetboot.report missing)"; return 1; }
	{ mkdir -p "$FB_RUN_PRIVATE" && chmod 0700 "$FB_RUN_PRIVATE"; } ||
		{ FB_ERROR="cannot make $FB_RUN_PRIVATE"; return 1; }
	fb_tries=0
	while :; do
		if [ -n "${FB_TLS_PORT:-}" ]; then
			fb_https_credential && break
			[ -z "$FB_ERROR" ] || return 1
		elif command -v wget >/dev/null 2>&1; then
			FB_CRED=$(timeout 15 wget -q -O - "$FB_CRED_URL" 2>"$FB_RUN_PRIVATE/err") && break
		else
			FB_CRED=$(curl -fsS -m 15 "$FB_CRED_URL" 2>"$FB_RUN_PRIVATE/err") && break
		fi
		FB_CRED=''
		fb_err=$(cat "$FB_RUN_PRIVATE/err" 2>/dev/null)
		case $fb_err in
		*403* | *404*)
			FB_ERROR="bootd refused this boot's credential ($fb_err): it was handed out already (takeover suspected) or this is not the machine"
			return 1
			;;
		esac
		fb_tries=$((fb_tries + 1))
		if [ $fb_tries -ge 5 ]; then
			FB_ERROR="could not fetch this boot's credential from $FB_CRED_URL ($fb_err)"
			return 1
		fi
		sleep 2
	done
	rm -f "$FB_RUN_PRIVATE/err"
	case $FB_CRED in
	'' | *[!0-9a-f]*)
		FB_CRED=''
		FB_ERROR="bootd sent a malformed credential"
		return 1
		;;
	esac
	[ ${#FB_CRED} -ge 32 ] || { FB_CRED=''; FB_ERROR="bootd sent a short credential"; return 1; }
	return 0
}

# fb_https_credential: one GET of this boot's credential from bootd's HTTPS
# port, the server checked against the pinned CA and the name
# fleetboot-server (openssl s_client; busybox's wget checks no
# certificate). The answer stays in shell variables. 0 with FB_CRED set;
# 1 with FB_ERROR set for a final failure (refused, or a server that is
# not ours), 1 with FB_ERROR empty when the server could not be reached
# (the caller tries again; FB_RUN_PRIVATE/err says why).
fb_https_credential() {
	FB_ERROR=''
	[ -r "$FB_CA" ] || { FB_ERROR="a verified boot needs the site CA at $FB_CA (image built without --ca)"; return 1; }
	fb_resp=$(printf 'GET /boot/%s/credential HTTP/1.0\r\nHost: %s\r\n\r\n' "$FB_MACHINE" "$FB_TLS_NAME" |
		OPENSSL_CONF=/dev/null timeout 15 openssl s_client -quiet -connect "$FB_SERVER:$FB_TLS_PORT" \
			-servername "$FB_TLS_NAME" -verify_hostname "$FB_TLS_NAME" -CAfile "$FB_CA" \
			-verify_return_error 2>"$FB_RUN_PRIVATE/err")
	fb_cr=$(printf '\r')
	fb_status=${fb_resp%%"$fb_cr"*}
	fb_status=${fb_status#HTTP/1.? }
	fb_status=${fb_status%% *}
	case $fb_status in
	200)
		FB_CRED=${fb_resp##*"$fb_cr"
}
		fb_resp=''
		return 0
		;;
	403 | 404)
		fb_resp=''
		FB_ERROR="bootd refused this boot's credential (HTTP $fb_status): it was handed out already (takeover suspected) or this is not the machine"
		return 1
		;;
	esac
	fb_resp=''
	if grep -q -i "verify\|certificate" "$FB_RUN_PRIVATE/err" 2>/dev/null; then
		FB_ERROR="the server at $FB_SERVER:$FB_TLS_PORT is not authenticated by the site CA: $(grep -i -m 1 "verify\|certificate" "$FB_RUN_PRIVATE/err")"
		return 1
	fi
	return 1
}

# fb_uki_params CMDLINE: a signed UKI's command line names the image
# version and its root hash but no machine (one UKI serves every machine
# of the version). Once the network is up, ask bootd for this machine's
# parameters (GET /boot/MACID/params, MACID = the MAC of the NIC whose DHCP
# answered; bootd = fleetboot.server, else the DHCP next-server, else the
# DHCP server) and parse them with the signed line after them, so every
# signed value wins. Nothing from there is trusted: the root is checked by
# the signed root hash, the server by TLS (fleetboot.verity implies it).
# Sets the FB_* variables as fb_cmdline_parse does; 0, or 1 with FB_ERROR.
fb_uki_params() {
	fb_signed_image=$FB_IMAGE
	fb_if=$(cat "$FB_RUN/interface" 2>/dev/null)
	fb_mac=$(cat "/sys/class/net/$fb_if/address" 2>/dev/null) || { FB_ERROR="no MAC address for interface '$fb_if'"; return 1; }
	fb_macid=$(echo "$fb_mac" | tr 'A-F:' 'a-f-')
	fb_srv=${FB_SERVER:-}
	[ -n "$fb_srv" ] || fb_srv=$(cat "$FB_RUN/next-server" 2>/dev/null)
	[ -n "$fb_srv" ] || fb_srv=$(cat "$FB_RUN/dhcp-server" 2>/dev/null)
	[ -n "$fb_srv" ] || { FB_ERROR="no server: no fleetboot.server and no DHCP server address"; return 1; }
	fb_url="http://$fb_srv:${FB_HTTP_PORT:-8067}/boot/$fb_macid/params"
	fb_tries=0
	until fb_params=$(timeout 15 wget -q -O - "$fb_url" 2>&1); do
		fb_tries=$((fb_tries + 1))
		[ $fb_tries -lt 5 ] || { FB_ERROR="cannot fetch this machine's parameters from $fb_url ($fb_params)"; return 1; }
		sleep 2
	done
	fb_pimage=''
	for fb_w in $fb_params; do
		case $fb_w in fleetboot.image=*) fb_pimage=${fb_w#*=} ;; esac
	done
	if [ "$fb_pimage" != "$fb_signed_image" ]; then
		FB_ERROR="this machine now runs image ${fb_pimage:-(none)}, but this signed boot file is $fb_signed_image: it needs that version's boot file"
		return 1
	fi
	fb_log "machine $fb_macid: parameters from $fb_url"
	fb_cmdline_parse "$fb_params $1"
	case $? in
	0) return 0 ;;
	1) FB_ERROR="the parameters from $fb_url name no root (fleetboot.root)"; return 1 ;;
	*) return 1 ;;
	esac
}

# fb_forget_credential: drop the credential before the booted system runs.
fb_forget_credential() {
	FB_CRED=''
	unset FB_CRED
	rm -rf "$FB_RUN_PRIVATE" 2>/dev/null || :
}

# fb_attach_nbd: connect /dev/nbd0 to the export MACID.CREDENTIAL.
# nbd-client configures the device through the kernel's netlink interface
# and exits (no -persist: a client that stays would keep the export name,
# and so the credential, in its argv, readable by every user through ps).
# Without a client that stays there is no reconnect: a restart of storaged
# fails the root's I/O (see initramfs/README.md).
fb_attach_nbd() {
	fb_modprobe nbd
	fb_wait_file 5 "$FB_NBD_DEV" || { FB_ERROR="no $FB_NBD_DEV (nbd module missing?)"; return 1; }
	fb_ro=''
	[ "$FB_MODE" != readonly ] || fb_ro=-readonly
	fb_tries=0
	while :; do
		# shellcheck disable=SC2086 # fb_ro is one word or empty
		if [ -n "${FB_TLS_PORT:-}" ]; then
			fb_nbd_tls && break
		elif nbd-client "$FB_ROOT_HOST" "$FB_ROOT_PORT" "$FB_NBD_DEV" \
			-N "$FB_MACHINE.$FB_CRED" $fb_ro; then
			break
		fi
		fb_tries=$((fb_tries + 1))
		if [ $fb_tries -ge 5 ]; then
			FB_ERROR="nbd-client could not attach export of $FB_MACHINE at $FB_ROOT_HOST:$FB_ROOT_PORT (credential refused, unknown machine or server down)"
			return 1
		fi
		sleep 2
	done
	# The size shows up once the kernel has the connection.
	fb_n=50
	while [ "$(cat /sys/block/nbd0/size 2>/dev/null || echo 0)" = 0 ]; do
		[ $fb_n -gt 0 ] || { FB_ERROR="NBD device has no size after connecting"; return 1; }
		fb_n=$((fb_n - 1))
		sleep 0.1
	done
	FB_ROOT_DEV=$FB_NBD_DEV
}

# fb_nbd_tls: nbd-client over TLS to the server the pinned CA vouches for.
# With TLS, nbd-client stays running (it is the TLS proxy between the
# kernel and the network), so the export name goes through /etc/nbdtab
# (in the initramfs's own root, removed at once) and never into its argv.
fb_nbd_tls() {
	[ -r "$FB_CA" ] || { fb_log "a verified boot needs the site CA at $FB_CA"; return 1; }
	(
		umask 077
		echo "${FB_NBD_DEV#/dev/} $FB_ROOT_HOST $FB_MACHINE.$FB_CRED port=$FB_ROOT_PORT,cacertfile=$FB_CA,tlshostname=$FB_TLS_NAME" >/etc/nbdtab
	) || return 1
	nbd-client "${FB_NBD_DEV#/dev/}" 2>"$FB_RUN_PRIVATE/nbd-err"
	fb_rc=$?
	rm -f /etc/nbdtab
	if [ $fb_rc != 0 ]; then
		fb_log "nbd-client over TLS failed: $(grep -i -m 1 "tls\|certif\|verif\|error\|fail" "$FB_RUN_PRIVATE/nbd-err")"
		return 1
	fi
	return 0
}

# fb_hmac_sha256_hex KEY MSG: HMAC-SHA256 in hex, with only shell built-ins
# and sha256sum, so the key is in no process's argv (openssl dgst -hmac
# would put it there). KEY and MSG are ASCII, KEY at most 64 bytes.
fb__octal_bytes() { # HEX: the bytes as printf octal escapes
	fb_h=$1 fb_o=''
	while [ -n "$fb_h" ]; do
		fb_b=${fb_h%"${fb_h#??}"}
		fb_h=${fb_h#??}
		fb_o="$fb_o\\$(printf '%03o' $((0x$fb_b)))"
	done
	printf '%s' "$fb_o"
}
fb_hmac_sha256_hex() {
	fb_k=$1 fb_ki='' fb_ko='' fb_i=0
	while [ $fb_i -lt 64 ]; do
		fb_c=0
		if [ -n "$fb_k" ]; then
			fb_ch=${fb_k%"${fb_k#?}"}
			fb_k=${fb_k#?}
			fb_c=$(printf '%d' "'$fb_ch")
		fi
		fb_ki="$fb_ki\\$(printf '%03o' $((fb_c ^ 0x36)))"
		fb_ko="$fb_ko\\$(printf '%03o' $((fb_c ^ 0x5c)))"
		fb_i=$((fb_i + 1))
	done
	# shellcheck disable=SC2059 # the formats are the escaped key bytes
	fb_in=$({ printf "$fb_ki"; printf '%s' "$2"; } | sha256sum)
	fb_in=${fb_in%% *}
	# shellcheck disable=SC2059
	fb_out=$({ printf "$fb_ko"; printf "$(fb__octal_bytes "$fb_in")"; } | sha256sum)
	echo "${fb_out%% *}"
	fb_ki='' fb_ko='' fb_k=''
}

# fb_attach_iscsi: log in with CHAP (user MACID, password: this boot's
# credential) and find the SCSI disk of the LUN. iscsistart runs only here
# and exits once the session is up; the kernel keeps the password in the
# session, where sysfs shows it to root only.
fb_attach_iscsi() {
	fb_modprobe iscsi_tcp sd_mod
	mkdir -p /etc/iscsi
	fb_init_iqn="iqn.2026-11.org.fleetboot.initiator:$FB_MACHINE"
	echo "InitiatorName=$fb_init_iqn" >/etc/iscsi/initiatorname.iscsi
	# A verified boot asks the target to prove the server's secret too
	# (mutual CHAP): the first 32 hex digits of HMAC-SHA256(credential,
	# "fleetboot iscsi mutual chap"), which only storaged and this boot
	# know (the credential came over HTTPS). iscsistart refuses a target
	# that cannot answer.
	set --
	fb_why="credential refused, target name or server"
	if [ -n "${FB_TLS_PORT:-}" ]; then
		fb_ms=$(fb_hmac_sha256_hex "$FB_CRED" "fleetboot iscsi mutual chap")
		set -- -U "$FB_MACHINE" -W "${fb_ms%"${fb_ms#????????????????????????????????}"}"
		fb_ms=''
		fb_why="mutual CHAP: credential refused, target name, or a server that cannot prove the server secret"
	fi
	fb_tries=0
	until iscsistart -i "$fb_init_iqn" -t "$FB_ROOT_IQN" -g 1 -a "$FB_ROOT_HOST" \
		-p "$FB_ROOT_PORT" -u "$FB_MACHINE" -w "$FB_CRED" "$@"; do
		fb_tries=$((fb_tries + 1))
		if [ $fb_tries -ge 5 ]; then
			FB_ERROR="iSCSI login to $FB_ROOT_IQN at $FB_ROOT_HOST:$FB_ROOT_PORT failed ($fb_why)"
			return 1
		fi
		sleep 2
	done
	fb_n=100
	FB_ROOT_DEV=''
	while [ -z "$FB_ROOT_DEV" ]; do
		for fb_b in /sys/class/iscsi_session/session*/device/target*/*:*:*:"$FB_ROOT_LUN"/block/*; do
			[ -e "$fb_b" ] && FB_ROOT_DEV=/dev/${fb_b##*/}
		done
		[ -n "$FB_ROOT_DEV" ] && break
		[ $fb_n -gt 0 ] || { FB_ERROR="iSCSI LUN $FB_ROOT_LUN has no disk after login"; return 1; }
		fb_n=$((fb_n - 1))
		sleep 0.1
	done
	fb_wait_file 5 "$FB_ROOT_DEV" || { FB_ERROR="no device node $FB_ROOT_DEV"; return 1; }
}

fb_attach_root() {
	fb_fetch_credential || return 1
	case $FB_ROOT_PROTO in
	nbd) fb_attach_nbd ;;
	iscsi) fb_attach_iscsi ;;
	*) FB_ERROR="unknown root protocol '$FB_ROOT_PROTO'"; return 1 ;;
	esac
}

# fb_verity_failed WHY: the verified root failed its check. Say so on the
# console in plain words, post `verity-failed` (where the network still
# answers), and fail the boot with FB_ERROR.
fb_verity_failed() {
	fb_log "the root file system failed verification (dm-verity): $*"
	fb_report verity-failed
	FB_ERROR="the root file system failed verification (dm-verity): $*"
	return 1
}

# fb_verity_open: put dm-verity over the attached root (FB_VERITY set).
# The hash tree (rootfs.verity of the image version, `veritysetup format`
# with its superblock) comes over plain HTTP into tmpfs: it needs no
# trust, since the root hash from the signed command line checks it, and
# every block read from the root is checked against it by the kernel.
# FB_ROOT_DEV becomes the verified device.
fb_verity_open() {
	fb_modprobe dm_mod dm_verity loop
	command -v veritysetup >/dev/null 2>&1 || { FB_ERROR="a verified boot needs veritysetup in the initramfs"; return 1; }
	fb_vdir=$FB_RUN/verity
	mkdir -p "$fb_vdir"
	fb_vurl="${FB_REPORT%%/boot/*}/images/${FB_IMAGE%@*}/${FB_IMAGE##*@}/rootfs.verity"
	fb_tries=0
	until timeout 60 wget -q -O "$fb_vdir/rootfs.verity" "$fb_vurl" 2>"$fb_vdir/err"; do
		fb_tries=$((fb_tries + 1))
		[ $fb_tries -lt 3 ] || { FB_ERROR="cannot fetch the hash tree $fb_vurl ($(cat "$fb_vdir/err"))"; return 1; }
		sleep 2
	done
	if ! veritysetup open "$FB_ROOT_DEV" "$FB_VERITY_NAME" "$fb_vdir/rootfs.verity" "$FB_VERITY" \
		>"$fb_vdir/out" 2>&1; then
		fb_verity_failed "the hash tree does not match the root hash on the command line ($(tail -n 1 "$fb_vdir/out"))"
		return 1
	fi
	fb_wait_file 5 "/dev/mapper/$FB_VERITY_NAME" || { FB_ERROR="no /dev/mapper/$FB_VERITY_NAME after veritysetup open"; return 1; }
	FB_ROOT_DEV=/dev/mapper/$FB_VERITY_NAME
	# The evidence an operator sees (db/evidence.c): dm-verity is open on
	# the root hash from the signed command line.
	fb_report verified "root_hash=$FB_VERITY"
	fb_log "dm-verity: root hash ${FB_VERITY%"${FB_VERITY#????????????????}"}..., every block of the root is checked"
}

# fb_verity_corrupt: the kernel found a block that does not match.
fb_verity_corrupt() {
	case $(veritysetup status "$FB_VERITY_NAME" 2>/dev/null) in
	*corrupted*) return 0 ;;
	esac
	dmesg 2>/dev/null | grep -q "verity.*corrupted"
}

# fb_mount_root MOUNTPOINT: mount the attached root. readonly mode: the
# device is read-only (the server takes no writes), so the root is an
# overlayfs whose upper layer is a tmpfs; writes vanish at power-off.
fb_mount_root() {
	fb_mnt=$1
	mkdir -p "$fb_mnt"
	if [ -n "${FB_VERITY:-}" ]; then
		fb_verity_open || return 1
	fi
	if [ "$FB_MODE" = readonly ]; then
		fb_modprobe overlay
		mkdir -p "$FB_RUN/lower" "$FB_RUN/rw"
		# noload: no journal replay on a device we may not write.
		if ! mount -t ext4 -o ro,noload "$FB_ROOT_DEV" "$FB_RUN/lower" 2>"$FB_RUN/mount-err"; then
			if [ -n "${FB_VERITY:-}" ] && fb_verity_corrupt; then
				fb_verity_failed "a block of $FB_ROOT_DEV does not match the root hash ($(dmesg 2>/dev/null | grep -m 1 "verity.*corrupted"))"
				return 1
			fi
			FB_ERROR="cannot mount $FB_ROOT_DEV read-only"
			return 1
		fi
		mount -t tmpfs -o mode=0755 fleetboot-rw "$FB_RUN/rw" ||
			{ FB_ERROR="cannot mount tmpfs for the overlay"; return 1; }
		mkdir -p "$FB_RUN/rw/upper" "$FB_RUN/rw/work"
		mount -t overlay -o "lowerdir=$FB_RUN/lower,upperdir=$FB_RUN/rw/upper,workdir=$FB_RUN/rw/work" \
			fleetboot-root "$fb_mnt" || { FB_ERROR="cannot mount overlayfs (overlay module missing?)"; return 1; }
		# Keep the layers visible in the booted system.
		mkdir -p "$fb_mnt/run/fleetboot" 2>/dev/null || :
	else
		mount -t ext4 -o rw "$FB_ROOT_DEV" "$fb_mnt" ||
			{ FB_ERROR="cannot mount $FB_ROOT_DEV (not an ext4 root?)"; return 1; }
	fi
}

# fb_machine_id_value: a stable id per machine (md5 of the machine id, the
# same 128-bit hex form systemd uses), or a random one per boot in
# ephemeral mode, where nothing else survives a boot either.
fb_machine_id_value() {
	if [ "$FB_MODE" = ephemeral ] && [ -r /proc/sys/kernel/random/uuid ]; then
		fb_u=$(cat /proc/sys/kernel/random/uuid)
		# Drop the hyphens with parameter expansion only.
		fb_id=''
		while [ -n "$fb_u" ]; do
			fb_id=$fb_id${fb_u%%-*}
			case $fb_u in *-*) fb_u=${fb_u#*-} ;; *) fb_u='' ;; esac
		done
		echo "$fb_id"
	else
		fb_h=$(printf 'fleetboot-machine-id:%s' "$FB_MACHINE" | md5sum)
		echo "${fb_h%% *}"
	fi
}

# fb_personalize ROOT: hostname and machine-id inside the mounted root.
fb_personalize() {
	fb_root=$1
	fb_host=''
	[ -r "$FB_RUN/hostname" ] && read -r fb_host <"$FB_RUN/hostname"
	case $fb_host in
	'' | *[!A-Za-z0-9.-]*) fb_host=$FB_MACHINE ;;
	esac
	hostname "$fb_host" 2>/dev/null || echo "$fb_host" >/proc/sys/kernel/hostname 2>/dev/null || :
	if [ -d "$fb_root/etc" ]; then
		echo "$fb_host" >"$fb_root/etc/hostname" 2>/dev/null || fb_log "cannot write /etc/hostname"
		fb_machine_id_value >"$fb_root/etc/machine-id" 2>/dev/null || fb_log "cannot write /etc/machine-id"
	fi
	# Hand the parsed parameters to the booted system (its userspace
	# reporter and test hooks read them): the initramfs's /run is moved
	# into the new root by every flavour.
	mkdir -p "$FB_RUN"
	{
		echo "FB_MACHINE=$FB_MACHINE"
		echo "FB_MODE=$FB_MODE"
		echo "FB_REPORT=$FB_REPORT"
		echo "FB_ROOT_DEV=${FB_ROOT_DEV:-}"
	} >"$FB_RUN/boot.env" 2>/dev/null || :
	fb_log "hostname $fb_host, machine-id $(cat "$fb_root/etc/machine-id" 2>/dev/null)"
}

# fb__le32 N: N as 4 little-endian bytes (for the MBR partition entry).
fb__le32() {
	for fb_i in 0 8 16 24; do
		# shellcheck disable=SC2059 # the format is the octal escape
		printf "\\$(printf '%03o' $((($1 >> fb_i) & 255)))"
	done
}

# fb_install_disk: the local disk install mode writes to.
fb_install_disk() {
	if [ -n "${FB_INSTALL_DISK:-}" ]; then
		echo "$FB_INSTALL_DISK"
		return 0
	fi
	for fb_d in vda sda nvme0n1 xvda; do
		if [ -b "/dev/$fb_d" ] && [ "/dev/$fb_d" != "${FB_ROOT_DEV:-}" ]; then
			echo "/dev/$fb_d"
			return 0
		fi
	done
	return 1
}

# fb_install: re-image the local disk from the attached root, then the
# caller reboots into it. Layout (see README.md): an MBR with syslinux's
# boot code and one active Linux partition from sector 2048 to the end of
# the disk, holding a byte copy of the image's ext4 root; extlinux boots
# the kernel and initrd found in its /boot with root=/dev/XXX1 and no
# fleetboot.root, so the same initramfs then boots the local root.
fb_install() {
	fb_disk=$(fb_install_disk) || { FB_ERROR="install: no local disk (looked for vda, sda, nvme0n1)"; return 1; }
	fb_dname=${fb_disk#/dev/}
	fb_src_sectors=$(cat "/sys/class/block/${FB_ROOT_DEV#/dev/}/size" 2>/dev/null || echo 0)
	fb_dst_sectors=$(cat "/sys/class/block/$fb_dname/size" 2>/dev/null || echo 0)
	[ "$fb_src_sectors" -gt 0 ] || { FB_ERROR="install: cannot read the size of $FB_ROOT_DEV"; return 1; }
	if [ "$fb_dst_sectors" -lt $((fb_src_sectors + 2048)) ]; then
		FB_ERROR="install: $fb_disk ($((fb_dst_sectors / 2048)) MiB) is smaller than the image ($((fb_src_sectors / 2048 + 1)) MiB)"
		return 1
	fi
	fb_mbr=/usr/lib/syslinux/mbr/mbr.bin
	if [ ! -r "$fb_mbr" ] || ! command -v extlinux >/dev/null 2>&1; then
		FB_ERROR="install: this initramfs has no extlinux or mbr.bin"
		return 1
	fi
	fb_log "install: writing the image to $fb_disk"
	# Copy in 16 MiB steps (1 MiB blocks, so the 1 MiB partition offset
	# is a whole number of blocks) and show progress on the console.
	fb_total=$(((fb_src_sectors + 32767) / 32768))
	fb_i=0 fb_last=-10
	while [ $fb_i -lt $fb_total ]; do
		dd if="$FB_ROOT_DEV" of="$fb_disk" bs=1M count=16 skip=$((fb_i * 16)) \
			seek=$((fb_i * 16 + 1)) conv=notrunc 2>/dev/null ||
			{ FB_ERROR="install: write to $fb_disk failed"; return 1; }
		fb_i=$((fb_i + 1))
		fb_pct=$((fb_i * 100 / fb_total))
		if [ $((fb_pct - fb_last)) -ge 10 ] || [ $fb_i = "$fb_total" ]; then
			fb_log "install: $fb_pct% ($((fb_i * 16)) of $((fb_total * 16)) MiB)"
			fb_last=$fb_pct
		fi
	done
	sync
	# Boot sector: syslinux boot code, a disk signature, one active
	# partition of type 0x83 starting at sector 2048.
	fb_tmp=$FB_RUN/mbr.bin
	mkdir -p "$FB_RUN"
	{
		dd if="$fb_mbr" bs=440 count=1 2>/dev/null
		printf 'fbfb\000\000'
		printf '\200\376\377\377\203\376\377\377'
		fb__le32 2048
		fb__le32 $((fb_dst_sectors - 2048))
		dd if=/dev/zero bs=48 count=1 2>/dev/null
		printf '\125\252'
	} >"$fb_tmp"
	dd if="$fb_tmp" of="$fb_disk" bs=512 count=1 conv=notrunc 2>/dev/null ||
		{ FB_ERROR="install: cannot write the boot sector"; return 1; }
	sync
	blockdev --rereadpt "$fb_disk" 2>/dev/null || partprobe "$fb_disk" 2>/dev/null || :
	case $fb_dname in *[0-9]) fb_part=${fb_disk}p1 ;; *) fb_part=${fb_disk}1 ;; esac
	fb_wait_file 10 "$fb_part" || { FB_ERROR="install: no partition device $fb_part"; return 1; }
	fb_t=$FB_RUN/target
	mkdir -p "$fb_t"
	mount -t ext4 "$fb_part" "$fb_t" || { FB_ERROR="install: cannot mount $fb_part"; return 1; }
	# The newest kernel and initrd (globs expand in sorted order).
	fb_k='' fb_r=''
	for fb_f in "$fb_t"/boot/vmlinuz*; do [ -f "$fb_f" ] && fb_k=${fb_f##*/}; done
	for fb_f in "$fb_t"/boot/initrd.img*; do [ -f "$fb_f" ] && fb_r=${fb_f##*/}; done
	if [ -z "$fb_k" ] || [ -z "$fb_r" ]; then
		umount "$fb_t"
		FB_ERROR="install: the image has no /boot/vmlinuz* and /boot/initrd.img*"
		return 1
	fi
	# Keep the console (and test) settings of this boot.
	fb_keep=''
	read -r fb_cmdline </proc/cmdline
	for fb_w in $fb_cmdline; do
		case $fb_w in console=* | fleetboot.test=*) fb_keep="$fb_keep $fb_w" ;; esac
	done
	mkdir -p "$fb_t/boot/extlinux"
	{
		echo "# Written by fleetboot install mode."
		echo "DEFAULT fleetboot"
		echo "TIMEOUT 10"
		echo "LABEL fleetboot"
		echo "  LINUX /boot/$fb_k"
		echo "  INITRD /boot/$fb_r"
		echo "  APPEND root=$fb_part rw fleetboot.machine=$FB_MACHINE$fb_keep"
	} >"$fb_t/boot/extlinux/extlinux.conf"
	if ! extlinux --install "$fb_t/boot/extlinux" >/dev/null 2>&1; then
		umount "$fb_t"
		FB_ERROR="install: extlinux could not install the boot loader on $fb_part"
		return 1
	fi
	fb_machine_id_value >"$fb_t/etc/machine-id" 2>/dev/null || :
	echo "$FB_MACHINE" >"$fb_t/etc/hostname" 2>/dev/null || :
	sync
	umount "$fb_t"
	fb_log "install: done; $fb_disk boots on its own now"
	fb_report installed
	return 0
}
