#!/usr/bin/env bash
# The initramfs command line parser (initramfs/fleetboot-cmdline.sh) on its
# own, under every shell an initramfs may have (busybox ash, dash, bash):
# good command lines give the right fields, malformed ones a clear error
# naming the parameter, and lines without fleetboot.root mean a local boot.
# No secret is taken from the command line (issue 13): the NBD export name
# is not there, fleetboot.secret is ignored with a warning, and the
# credential URL is the report URL's /credential sibling.
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

parser=$FB_TOP/initramfs/fleetboot-cmdline.sh
shells=()
command -v busybox >/dev/null && shells+=("busybox sh")
command -v dash >/dev/null && shells+=(dash)
shells+=(bash)

# parse SHELL CMDLINE: prints rc and the fields, one per line.
parse() {
	# shellcheck disable=SC2086,SC2016 # "busybox sh" is two words; the script is for that shell
	$1 -c '. "$1"; fb_cmdline_parse "$2"; rc=$?
		echo "rc=$rc"
		for v in FB_SERVER FB_MACHINE FB_MODE FB_REPORT FB_CRED_URL FB_ROOT_PROTO FB_ROOT_HOST \
			FB_ROOT_PORT FB_ROOT_IQN FB_ROOT_LUN FB_IP FB_ERROR FB_WARN \
			FB_RESCUE_TIMEOUT FB_INSTALL_DISK FB_TLS_PORT FB_VERITY FB_IMAGE; do
			eval "echo \"$v=\${$v}\""
		done
		printf "FB_TESTS=%s" "$FB_TESTS" | tr "\n" "|"; echo' sh "$parser" "$2"
}
field() { sed -n "s/^$1=//p" <<<"$2"; }

mid=52-54-00-12-34-56
sec=0123456789abcdef0123456789abcdef
nbd="ip=dhcp fleetboot.server=10.0.0.1 fleetboot.machine=$mid fleetboot.mode=ephemeral fleetboot.root=nbd:10.0.0.1:10809 fleetboot.report=http://10.0.0.1:8067/boot/$mid/stage"
iscsi="console=ttyS0 ip=dhcp fleetboot.server=srv.example fleetboot.machine=52:54:00:AB:CD:EF fleetboot.root=iscsi:srv.example:3260:iqn.2026-11.org.fleetboot:52-54-00-ab-cd-ef:0 fleetboot.report=http://srv.example:8067/boot/52-54-00-ab-cd-ef/stage quiet"

n=0
for sh in "${shells[@]}"; do
	# A complete NBD line.
	out=$(parse "$sh" "$nbd")
	assert_eq "$(field rc "$out")" 0 "$sh: nbd rc"
	assert_eq "$(field FB_ROOT_PROTO "$out")" nbd "$sh: proto"
	assert_eq "$(field FB_ROOT_HOST "$out")" 10.0.0.1 "$sh: host"
	assert_eq "$(field FB_ROOT_PORT "$out")" 10809 "$sh: port"
	assert_eq "$(field FB_MACHINE "$out")" "$mid" "$sh: machine"
	assert_eq "$(field FB_MODE "$out")" ephemeral "$sh: mode"
	assert_eq "$(field FB_REPORT "$out")" "http://10.0.0.1:8067/boot/$mid/stage" "$sh: report"
	assert_eq "$(field FB_CRED_URL "$out")" "http://10.0.0.1:8067/boot/$mid/credential" "$sh: credential URL"
	assert_eq "$(field FB_IP "$out")" dhcp "$sh: ip"
	assert_eq "$(field FB_WARN "$out")" "" "$sh: no warnings"

	# iSCSI: the IQN keeps its colons, the MAC form is normalised, the
	# mode defaults to persistent.
	out=$(parse "$sh" "$iscsi")
	assert_eq "$(field rc "$out")" 0 "$sh: iscsi rc ($(field FB_ERROR "$out"))"
	assert_eq "$(field FB_ROOT_PROTO "$out")" iscsi "$sh: iscsi proto"
	assert_eq "$(field FB_ROOT_HOST "$out")" srv.example "$sh: iscsi host"
	assert_eq "$(field FB_ROOT_IQN "$out")" "iqn.2026-11.org.fleetboot:52-54-00-ab-cd-ef" "$sh: iqn"
	assert_eq "$(field FB_ROOT_LUN "$out")" 0 "$sh: lun"
	assert_eq "$(field FB_MACHINE "$out")" 52-54-00-ab-cd-ef "$sh: machine normalised"
	assert_eq "$(field FB_MODE "$out")" persistent "$sh: default mode"

	# Test actions accumulate in order; globs are not expanded.
	out=$(parse "$sh" "$nbd fleetboot.test=write:/var/x:a:b fleetboot.test=check:/etc/*:v fleetboot.test=poweroff fleetboot.rescue_timeout=5")
	assert_eq "$(field rc "$out")" 0 "$sh: tests rc ($(field FB_ERROR "$out"))"
	assert_eq "$(field FB_TESTS "$out")" "write:/var/x:a:b|check:/etc/*:v|poweroff|" "$sh: test actions"
	assert_eq "$(field FB_RESCUE_TIMEOUT "$out")" 5 "$sh: rescue timeout"

	# A verified boot (issue 16): TLS port, root hash, image version.
	rh=$(printf '%064d' 7 | tr 0 a)
	out=$(parse "$sh" "${nbd/ephemeral/readonly} fleetboot.tls=8068 fleetboot.image=tiny@3 fleetboot.verity=$rh")
	assert_eq "$(field rc "$out")" 0 "$sh: verity rc ($(field FB_ERROR "$out"))"
	assert_eq "$(field FB_TLS_PORT "$out")" 8068 "$sh: tls port"
	assert_eq "$(field FB_VERITY "$out")" "$rh" "$sh: root hash"
	assert_eq "$(field FB_IMAGE "$out")" tiny@3 "$sh: image version"
	# The UKI's line (verity salt, HTTP port) and no fleetboot.tls: TLS
	# all the same, on bootd's default HTTPS port.
	out=$(parse "$sh" "${nbd/ephemeral/readonly} fleetboot.image=tiny@3 fleetboot.verity=$rh fleetboot.verity_salt=00ff fleetboot.http_port=8067")
	assert_eq "$(field rc "$out")" 0 "$sh: UKI line rc ($(field FB_ERROR "$out"))"
	assert_eq "$(field FB_TLS_PORT "$out")" 8068 "$sh: verity implies TLS"
	assert_eq "$(field FB_WARN "$out")" "" "$sh: no warnings for the UKI's parameters"

	# A secret on the command line (an older server's script) is not used.
	out=$(parse "$sh" "$nbd fleetboot.secret=$sec")
	assert_eq "$(field rc "$out")" 0 "$sh: fleetboot.secret rc"
	case $(field FB_WARN "$out") in *"fleetboot.secret ignored"*) ;; *) fail "$sh: no warning for fleetboot.secret" ;; esac
	grep -q "$sec" <<<"$out" && fail "$sh: the parser kept the secret"

	# Unknown fleetboot.* keys are warnings, not failures.
	out=$(parse "$sh" "$nbd fleetboot.future=1")
	assert_eq "$(field rc "$out")" 0 "$sh: unknown key rc"
	case $(field FB_WARN "$out") in *fleetboot.future*) ;; *) fail "$sh: no warning for an unknown key" ;; esac

	# No fleetboot.root: a local boot (rc 1), machine still known.
	out=$(parse "$sh" "root=/dev/vda1 rw fleetboot.machine=$mid console=ttyS0")
	assert_eq "$(field rc "$out")" 1 "$sh: local boot rc"
	assert_eq "$(field FB_MACHINE "$out")" "$mid" "$sh: local boot machine"
	out=$(parse "$sh" "")
	assert_eq "$(field rc "$out")" 1 "$sh: empty line"

	# Malformed: rc 2 and an error naming the parameter.
	while IFS='|' read -r line want; do
		[ -n "$line" ] || continue
		out=$(parse "$sh" "$line")
		assert_eq "$(field rc "$out")" 2 "$sh: '$line' must be refused"
		err=$(field FB_ERROR "$out")
		case $err in *"$want"*) ;; *) fail "$sh: '$line': error '$err' does not mention '$want'" ;; esac
		n=$((n + 1))
	done <<EOF
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:10809|fleetboot.report: missing
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:10809 fleetboot.report=http://x/y|fleetboot.report: missing or not
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1|fleetboot.root: expected nbd
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:0|bad port '0'
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:65536|bad port '65536'
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:08|bad port '08'
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:abc|bad port 'abc'
fleetboot.machine=$mid fleetboot.root=nbd::10809|bad host ''
fleetboot.machine=$mid fleetboot.root=nbd:bad_host!:10809|bad host
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:10809:a/b|the export name is not on the command line
fleetboot.machine=$mid fleetboot.root=nbd:10.0.0.1:10809:$mid.$sec|the export name is not on the command line
fleetboot.machine=$mid fleetboot.root=http:10.0.0.1:80:x|unknown protocol
fleetboot.machine=$mid fleetboot.root=|empty value
fleetboot.machine=$mid fleetboot.root=iscsi:h:3260:iqn.2026-11.org.fleetboot:m|bad LUN
fleetboot.machine=$mid fleetboot.root=iscsi:h:3260:target:0|bad iSCSI target name
fleetboot.machine=$mid fleetboot.root=iscsi:h:3260:iqn.x:y:z:lun|bad LUN
fleetboot.machine=$mid fleetboot.root=iscsi:h:3260:iqn.2026-11.org.fleetboot:m:0|fleetboot.report: missing
fleetboot.root=nbd:h:1|fleetboot.machine: missing
fleetboot.machine=52-54-00-12-34|fleetboot.machine: bad machine id
fleetboot.machine=52-54-00-12-34-5g|fleetboot.machine: bad machine id
fleetboot.machine=52_54_00_12_34_56|fleetboot.machine: bad machine id
fleetboot.machine=$mid fleetboot.mode=diskless fleetboot.root=nbd:h:1|unknown mode 'diskless'
fleetboot.machine=$mid fleetboot.mode=install|fleetboot.mode=install needs fleetboot.root
fleetboot.machine=$mid fleetboot.report=ftp://x/y fleetboot.root=nbd:h:1|fleetboot.report: expected
fleetboot.machine=$mid fleetboot.report=http://x/y?a=\$(reboot) fleetboot.root=nbd:h:1|fleetboot.report: bad character
fleetboot.machine=$mid fleetboot.server=a;b fleetboot.root=nbd:h:1|fleetboot.server: bad address
fleetboot.machine=$mid fleetboot.test=rm:/x fleetboot.root=nbd:h:1|fleetboot.test: unknown action
fleetboot.machine=$mid fleetboot.test=write:/proc/sysrq-trigger:b fleetboot.root=nbd:h:1|fleetboot.test: refusing path
fleetboot.machine=$mid fleetboot.test=write:/a/../../x:b fleetboot.root=nbd:h:1|fleetboot.test: refusing path
fleetboot.machine=$mid fleetboot.test=sleep:x fleetboot.root=nbd:h:1|fleetboot.test: bad sleep
fleetboot.machine=$mid fleetboot.rescue_timeout=-1 fleetboot.root=nbd:h:1|fleetboot.rescue_timeout
fleetboot.machine=$mid fleetboot.install_disk=vda fleetboot.root=nbd:h:1|fleetboot.install_disk
fleetboot.machine=$mid fleetboot.mode fleetboot.root=nbd:h:1|missing '=VALUE'
$nbd fleetboot.tls=0|fleetboot.tls: not a port
$nbd fleetboot.tls=8068 fleetboot.image=tiny@1 fleetboot.verity=ABCD$rh|fleetboot.verity: not a lower-case hex
$nbd fleetboot.tls=8068 fleetboot.image=tiny@1 fleetboot.verity=abcd|fleetboot.verity: root hash too short
$nbd fleetboot.tls=8068 fleetboot.image=../x@1 fleetboot.verity=$rh|fleetboot.image: expected NAME@VERSION
$nbd fleetboot.tls=8068 fleetboot.image=tiny@x fleetboot.verity=$rh|fleetboot.image: expected NAME@VERSION
${nbd/ephemeral/readonly} fleetboot.tls=8068 fleetboot.verity=$rh|fleetboot.verity needs fleetboot.image
$nbd fleetboot.tls=8068 fleetboot.image=tiny@1 fleetboot.verity=$rh|mode ephemeral cannot run on a verified root
EOF
	echo "ok: $sh"
done
echo "ok: ${#shells[@]} shells, $n malformed lines refused"
