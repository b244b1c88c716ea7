#!/usr/bin/env bash
# bench/bootd-http.sh - 100 concurrent downloads of a 16 MiB kernel with
# wrk over a veth between two network namespaces: bootd's
# /images/NAME/VERSION/vmlinuz (libmicrohttpd, sendfile) against nginx
# (sendfile on) serving the same file, one after the other in the same run.
set -u
. "$(dirname "$0")/../tests/bootd/common.sh"
requires wrk
export BOOTD_ARGS="" # read by tests/bootd/common.sh: no -v in benchmarks
SECS=${FB_BENCH_SECS:-10}

bootd_env "dhcp = off"
sed -i '/^interface = /d' "$CONF"
make_image k16 $((16 << 20))
bootd_net
ip -n "$CLI" addr add 10.77.0.2/24 dev bc0
chmod -R a+rX "$T"
K=$(ls -d "$T"/state/images/k16/*/ | head -n 1)

bw() { # URL -> bytes/s (wrk's Transfer/sec converted)
	ip netns exec "$CLI" wrk -t 2 -c 100 -d "${SECS}s" --timeout 30s "$1" >"$T/wrk.log" 2>&1
	awk '/^Transfer\/sec/ {
		v = $2; u = substr(v, length(v) - 1); n = v + 0
		if (u == "GB") n *= 1e9; else if (u == "MB") n *= 1e6; else if (u == "KB") n *= 1e3
		printf "%.0f", n }' "$T/wrk.log"
}

bootd_start
b=$(bw "http://10.77.0.1:$HTTP_PORT/images/k16/1/vmlinuz")
berr=$(grep -c "Non-2xx" "$T/wrk.log")
bootd_stop

n=0 nerr=-
if command -v nginx >/dev/null; then
	mkdir -p "$T/nginx"
	cat >"$T/nginx/nginx.conf" <<N
worker_processes auto;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $T/nginx;
	proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx;
	uwsgi_temp_path $T/nginx;
	scgi_temp_path $T/nginx;
	server { listen 10.77.0.1:8080; root $K; }
}
N
	ip netns exec "$SRV" nginx -c "$T/nginx/nginx.conf" -g 'daemon off;' >"$T/nginx.out" 2>&1 &
	echo $! >"$T/nginx.pid2"
	kill_at_exit "$T/nginx.pid2"
	wait_for 10 ip netns exec "$CLI" curl -sfI http://10.77.0.1:8080/vmlinuz
	n=$(bw http://10.77.0.1:8080/vmlinuz)
	nerr=$(grep -c "Non-2xx" "$T/wrk.log")
	kill "$(cat "$T/nginx.pid2")"
fi
printf '%-46s %14s %8s\n' "HTTP 16 MiB, 100 connections (wrk, ${SECS}s)" "MB/s" "errors"
printf '%-46s %14s %8s\n' "fleetboot-bootd (libmicrohttpd, sendfile)" "$(awk -v b="$b" 'BEGIN{printf "%.0f", b/1e6}')" "$berr"
printf '%-46s %14s %8s\n' "nginx (sendfile)" "$(awk -v b="$n" 'BEGIN{printf "%.0f", b/1e6}')" "$nerr"
echo "bootd / nginx: $(awk -v a="$b" -v b="$n" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')  (target >= 0.9x)"
