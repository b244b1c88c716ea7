#!/usr/bin/env bash
# storaged's NBD over TLS (issue 16, the authenticated server): `fleetboot
# init` makes the site CA and a server certificate (STATE/tls), nbdkit
# offers TLS with it, and
#   - a Secure Boot machine's export opens over TLS for a client that pins
#     the site CA and checks the name fleetboot-server, and reads the base;
#   - the same export over plain NBD is refused, with the reason logged;
#   - a client pinning another CA refuses the server (as an initramfs does
#     with an impostor server);
#   - a machine without Secure Boot still opens over plain NBD.
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-storaged.sh
. "$(dirname "$0")/lib-storaged.sh"
requires openssl unshare cmp
sd_setup

S=52-54-00-ab-00-01 P=52-54-00-ab-00-02
fb machine add $S --image base --mode readonly --ip 10.77.1.11 --secure-boot on >/dev/null ||
	fail "add S"
fb machine add $P --image base --mode readonly --ip 10.77.2.12 >/dev/null || fail "add P"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.12

echo "== init made the CA and a server certificate it issued"
for f in ca-cert.pem server-cert.pem server-key.pem; do
	[ -s "$T/state/tls/$f" ] || fail "no STATE/tls/$f after init"
done
assert_eq "$(stat -c %a "$T/state/tls/server-key.pem")" 600 "server key mode"
assert_eq "$(stat -c %a "$T/state/tls-ca-key.pem")" 600 "CA key mode"
openssl verify -CAfile "$T/state/tls/ca-cert.pem" -verify_hostname fleetboot-server \
	"$T/state/tls/server-cert.pem" >/dev/null || fail "server certificate not issued by the CA"

sd_start
grep -q "TLS offered" "$SD_LOG" || { cat "$SD_LOG"; fail "nbdkit not started with TLS"; }

# The client side, as the initramfs has it: only the CA certificate, and
# the server's name resolving to the server (libnbd checks the name it
# connected to). A mount namespace of the client's own gives it the name.
mkdir -p "$T/pin" "$T/other"
cp "$T/state/tls/ca-cert.pem" "$T/pin/ca-cert.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj "/CN=not the site CA" -keyout "$T/other/key.pem" -out "$T/other/ca-cert.pem" \
	2>/dev/null || fail "make another CA"
tls_client() { # N HOSTS_IP CMD... (the URI host is fleetboot-server)
	local n=$1 ip=$2
	shift 2
	printf '127.0.0.1 localhost\n%s fleetboot-server\n' "$ip" >"$T/hosts-$n"
	in_client "$n" unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
		sh "$T/hosts-$n" "$@"
}
tls_uri() { echo "nbds://fleetboot-server:10809/$1.$(cred_of "$1")?tls-certificates=$2"; }

echo "== a Secure Boot machine over TLS, pinning the site CA"
tls_client 1 10.77.1.1 timeout 30 nbdcopy "$(tls_uri $S "$T/pin")" "$T/out-S.img" ||
	{ tail -n 20 "$SD_LOG"; fail "TLS export of the Secure Boot machine"; }
cmp "$T/out-S.img" "$T/base.img" || fail "the TLS export does not read the base"

echo "== the same export over plain NBD is refused"
sd_refused 1 "$(sd_uri 1 $S)" "refused export for $S .*served over TLS only" \
	"plain NBD for a Secure Boot machine"

echo "== a client pinning another CA refuses the server"
if tls_client 1 10.77.1.1 timeout 30 nbdinfo "$(tls_uri $S "$T/other")" \
	>"$T/other.out" 2>&1; then
	fail "a client pinning another CA accepted the server"
fi
grep -qi "certificate\|verif\|tls" "$T/other.out" || { cat "$T/other.out"; fail "refused for another reason"; }
echo "   refused: $(head -n 1 "$T/other.out")"

echo "== a machine without Secure Boot: plain NBD as before"
in_client 2 timeout 30 nbdcopy "$(sd_uri 2 $P)" "$T/out-P.img" || fail "plain export of P"
cmp "$T/out-P.img" "$T/base.img" || fail "P does not read the base"
echo "ok"
