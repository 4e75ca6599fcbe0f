#!/usr/bin/env bash
# Runs the same load against MCP's proxy, HAProxy (L4, req.ssl_sni) and nginx (L7 termination),
# all in front of the same nginx backends, and prints requests/s, latency and the ratio.
#   apps/mcproxy-registry/bench/run.sh [seconds per run, default 10]
# Needs: wrk, h2load (nghttp2-client), haproxy, nginx-light, openssl; the app built (pnpm build).
set -uo pipefail
DUR=${1:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
NODE=${NODE:-$(command -v node)}
W=$(mktemp -d /tmp/mcproxy-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
for tool in wrk h2load haproxy nginx openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install wrk nghttp2-client haproxy nginx-light" >&2; exit 1; }
done

# EC P-256 certificate for "localhost" (the name wrk and h2load send as SNI).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/localhost.key" \
  -out "$W/localhost.pem" -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null

# Ports: backends 18080 (HTTP) and 18443 (HTTPS); references 19441 (HAProxy L4) and 19442 (nginx L7);
# MCP: 19451 (L4) and 19452 (L7), API 19450.
mkdir -p "$W/nginx"
cat > "$W/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets on;
  upstream backend { server 127.0.0.1:18080; keepalive 64; }
  server { listen 127.0.0.1:18080; keepalive_requests 100000; location / { return 200 "hello from the backend\n"; } }
  server { listen 127.0.0.1:18443 ssl; keepalive_requests 100000;
    ssl_certificate $W/localhost.pem; ssl_certificate_key $W/localhost.key;
    location / { return 200 "hello from the backend\n"; } }
  server { listen 127.0.0.1:19442 ssl http2; keepalive_requests 100000;
    ssl_certificate $W/localhost.pem; ssl_certificate_key $W/localhost.key;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } }
}
CONF
nginx -c "$W/nginx.conf" -g "daemon off;" -p "$W/nginx" & PIDS+=($!)

cat > "$W/haproxy.cfg" <<CONF
global
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend l4
  bind 127.0.0.1:19441
  tcp-request inspect-delay 5s
  tcp-request content accept if { req_ssl_hello_type 1 }
  use_backend tls if { req.ssl_sni -i localhost }
backend tls
  server s1 127.0.0.1:18443
CONF
haproxy -f "$W/haproxy.cfg" -db >/dev/null 2>&1 & PIDS+=($!)

mkdir -p "$W/mcp"
echo "" > "$W/mcp/tokens.toml"; chmod 600 "$W/mcp/tokens.toml"
cat > "$W/mcp/routes.toml" <<CONF
[[listeners]]
addr = ":19451"
  [[listeners.routes]]
  hostname = "localhost"
  backend = "127.0.0.1:18443"
[[listeners]]
addr = ":19452"
  [[listeners.routes]]
  hostname = "localhost"
  backend = "127.0.0.1:18080"
  mode = "l7"
CONF
cat > "$W/mcp/mcproxy.toml" <<CONF
[server]
listen = "127.0.0.1:19450"
socket = "$W/mcp/admin.sock"
[auth]
tokens_file = "$W/mcp/tokens.toml"
[database]
path = "$W/mcp/routes.db"
[proxy]
bind = "127.0.0.1"
cert_dir = "$W"
bootstrap_file = "$W/mcp/routes.toml"
[log]
level = "warn"
CONF
"$NODE" ${NODE_PROF:-} "$APP/dist/main.js" --config "$W/mcp/mcproxy.toml" & PIDS+=($!)

for i in $(seq 100); do curl -sk https://localhost:19452/ >/dev/null 2>&1 && curl -sk https://localhost:19441/ >/dev/null 2>&1 \
  && curl -sk https://localhost:19442/ >/dev/null 2>&1 && break; sleep 0.1; done

rps_wrk() { awk '/Requests\/sec/ {print $2}'; }
p99_wrk() { awk '$1=="99%" {print $2}'; }
run_wrk() { wrk -t1 -c64 -d"${DUR}s" --latency "$@" 2>&1; }
run_h2() { h2load -c32 -m10 -D "$DUR" "$@" 2>&1; }
rps_h2() { awk '/^finished in/ {for (i=1;i<=NF;i++) if ($i=="req/s,") print $(i-1)}'; }
mean_h2() { awk '/time for request:/ {print $6}'; }

printf '%-36s %12s %10s %12s %10s %7s\n' "scenario" "mcp req/s" "mcp p99" "ref req/s" "ref p99" "ratio"
line() { printf '%-36s %12s %10s %12s %10s %7s\n' "$1" "$2" "$3" "$4" "$5" "$(awk -v a="$2" -v b="$4" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')"; }

a=$(run_wrk https://localhost:19451/); b=$(run_wrk https://localhost:19441/)
line "L4 keep-alive (vs HAProxy)" "$(rps_wrk <<<"$a")" "$(p99_wrk <<<"$a")" "$(rps_wrk <<<"$b")" "$(p99_wrk <<<"$b")"
a=$(run_wrk https://localhost:19452/); b=$(run_wrk https://localhost:19442/)
line "L7 HTTP/1.1 keep-alive (vs nginx)" "$(rps_wrk <<<"$a")" "$(p99_wrk <<<"$a")" "$(rps_wrk <<<"$b")" "$(p99_wrk <<<"$b")"
a=$(run_h2 https://localhost:19452/); b=$(run_h2 https://localhost:19442/)
line "L7 HTTP/2 (vs nginx; mean latency)" "$(rps_h2 <<<"$a")" "$(mean_h2 <<<"$a")" "$(rps_h2 <<<"$b")" "$(mean_h2 <<<"$b")"
a=$(run_wrk -H "Connection: close" https://localhost:19452/); b=$(run_wrk -H "Connection: close" https://localhost:19442/)
line "L7 new TLS connection per request" "$(rps_wrk <<<"$a")" "$(p99_wrk <<<"$a")" "$(rps_wrk <<<"$b")" "$(p99_wrk <<<"$b")"
