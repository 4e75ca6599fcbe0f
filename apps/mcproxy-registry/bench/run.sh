#!/usr/bin/env bash
# Runs the same load against MCP's proxy, HAProxy (L4, req.ssl_sni) and nginx (L7 termination),
# all in front of the same nginx backends, and prints requests/s, latency and the ratio: each
# scenario REPEAT times, proxy and reference back to back in the same round (in turn first), then the medians.
#   apps/mcproxy-registry/bench/run.sh [seconds per run, default 5]
# Environment:
#   SCENARIOS="l4 h1 h2 tls"  which loads to run (default all)
#   REPEAT=3                  rounds per scenario; the table shows medians (ratio: median of ratios)
#   PIN=1                     load generator on CPU 1, proxies and backends on CPU 0 (default: unpinned)
#   HAPROXY_THREADS=1         HAProxy's nbthread (default 1: one worker, like nginx and Node)
#   NODE_PROF="--cpu-prof --cpu-prof-dir=DIR"  profile the proxy during the run
#   FLOORS=1                  also measure Node's floors (bench/floors/): a bare byte relay (h1) and a
#                             bare TLS-terminating proxy (tls), against the same reference rounds
# Needs: wrk, h2load (nghttp2-client), haproxy, nginx-light, openssl; the app built (pnpm build).
set -uo pipefail
DUR=${1:-5}
SCENARIOS=${SCENARIOS:-l4 h1 h2 tls}
REPEAT=${REPEAT:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
NODE=${NODE:-$(command -v node)}
# mc-proxy needs Node 24 (an older node first on PATH would measure, or crash, something else).
if ! "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  echo "$NODE is Node $("$NODE" --version 2>/dev/null): the benchmark needs Node 24 (set NODE=... or fix PATH)" >&2
  exit 1
fi
W=$(mktemp -d /tmp/mcproxy-bench.XXXXXX)
SERVE="" LOAD=""
if [ "${PIN:-0}" = 1 ]; then SERVE="taskset -c 0" LOAD="taskset -c 1"; fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
for tool in wrk h2load haproxy nginx openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install wrk nghttp2-client haproxy nginx-light" >&2; exit 1; }
done

# Every port this run listens on must be free: a backend that cannot bind would leave the proxies
# forwarding to whatever holds the port (on a node running the platform, 18080 may be mc-proxy's
# plain-HTTP port), and the figures would measure that.
PORTS="18080 18443 19441 19442 19450 19451 19452 19453 19454"
for port in $PORTS; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is in use: the benchmark needs $PORTS free (stop what listens there, e.g. make down)" >&2
    exit 1
  fi
done

# EC P-256 certificate for "localhost" (the name wrk and h2load send as SNI).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/localhost.key" \
  -out "$W/localhost.pem" -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null

# Ports: backends 18080 (HTTP) and 18443 (HTTPS); references 19441 (HAProxy L4) and 19442 (nginx L7);
# MCP: 19451 (L4) and 19452 (L7), API 19450. Backends run in their own nginx so that the reference
# proxy (nginx L7) and the backend it forwards to are separate processes, as with mc-proxy.
for role in backend ref; do mkdir -p "$W/$role"; done
cat > "$W/backend.conf" <<CONF
worker_processes 1;
pid $W/backend/nginx.pid;
error_log $W/backend/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ssl_session_cache shared:SSLB:10m;
  ssl_session_tickets on;
  server { listen 127.0.0.1:18080 backlog=4096; keepalive_requests 100000;
    location / { return 200 "hello from the backend\n"; } }
  server { listen 127.0.0.1:18443 ssl backlog=4096; keepalive_requests 100000; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $W/localhost.pem; ssl_certificate_key $W/localhost.key;
    location / { return 200 "hello from the backend\n"; } }
}
CONF
cat > "$W/ref.conf" <<CONF
worker_processes 1;
pid $W/ref/nginx.pid;
error_log $W/ref/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets on;
  upstream backend { server 127.0.0.1:18080; keepalive 64; }
  server { listen 127.0.0.1:19442 ssl http2 backlog=4096; keepalive_requests 100000; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $W/localhost.pem; ssl_certificate_key $W/localhost.key;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } }
}
CONF
$SERVE nginx -c "$W/backend.conf" -g "daemon off;" -p "$W/backend" & PIDS+=($!)
$SERVE nginx -c "$W/ref.conf" -g "daemon off;" -p "$W/ref" & PIDS+=($!); NGINX_REF=$!

cat > "$W/haproxy.cfg" <<CONF
global
  maxconn 8000
  nbthread ${HAPROXY_THREADS:-1}
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
$SERVE haproxy -f "$W/haproxy.cfg" -db >/dev/null 2>&1 & PIDS+=($!); HAPROXY=$!

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
# The flags mc-proxy ships with (its shebang, unit and image); Node's floors get the same.
FLAGS="--max-semi-space-size=8 --single-threaded-gc"
# shellcheck disable=SC2086
$SERVE "$NODE" $FLAGS ${NODE_PROF:-} "$APP/dist/main.js" --config "$W/mcp/mcproxy.toml" & PIDS+=($!); MCP=$!

if [ "${FLOORS:-0}" = 1 ]; then
  $SERVE "$NODE" $FLAGS "$HERE/floors/relay.mjs" "$W/localhost.pem" "$W/localhost.key" 19453 18080 &
  PIDS+=($!); RELAY=$!
  $SERVE "$NODE" $FLAGS "$HERE/floors/tls-proxy.mjs" "$W/localhost.pem" "$W/localhost.key" 19454 18080 &
  PIDS+=($!); TLS_PROXY=$!
fi
floors_ready() {
  [ "${FLOORS:-0}" != 1 ] && return 0
  curl -sfk -m 2 https://localhost:19453/ >/dev/null 2>&1 && curl -sfk -m 2 https://localhost:19454/ >/dev/null 2>&1
}
ready=no
for _ in $(seq 100); do
  if curl -sfk -m 2 https://localhost:19452/ >/dev/null 2>&1 && curl -sfk -m 2 https://localhost:19441/ >/dev/null 2>&1 &&
    curl -sfk -m 2 https://localhost:19442/ >/dev/null 2>&1 && floors_ready; then ready=yes; break; fi
  sleep 0.1
done
if [ "$ready" != yes ]; then
  echo "the proxies or their backends did not answer within 10 s (nginx's logs follow, if any)" >&2
  tail -n 3 "$W"/*/error.log >&2 2>/dev/null
  exit 1
fi

# One load run → "req/s p99-latency-in-ms" (wrk: its --latency table; h2load: from its per-request
# log, as it prints no percentiles itself).
MS='function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return 0 }'
wrk_run() { $LOAD wrk -t1 -c64 -d"${DUR}s" --latency "$@" 2>&1 | awk "$MS"' /Requests\/sec/ {r=$2} $1=="99%" {p=ms($2)} END {print r+0, p+0}'; }
h2_run() {
  local log="$W/h2load.log" r p
  rm -f "$log"
  r=$($LOAD h2load -c32 -m10 -D "$DUR" --log-file="$log" "$@" 2>&1 |
    awk '/^finished in/ {for (i=1;i<=NF;i++) if ($i=="req/s,") r=$(i-1)} END {print r+0}')
  # The log's third column: microseconds from request to the end of its response.
  p=$(cut -f3 "$log" 2>/dev/null | sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; if (NR) printf "%.2f", v[i]/1000; else print 0}')
  echo "$r $p"
}
load() {
  case $1 in
    l4) wrk_run "https://localhost:$2/" ;;
    h1) wrk_run "https://localhost:$2/" ;;
    h2) h2_run "https://localhost:$2/" ;;
    tls) wrk_run -H "Connection: close" "https://localhost:$2/" ;;
  esac
}
# CPU time a process (all its threads) has used, in clock ticks: the proxy's cost per request is
# less disturbed by other work on the machine than its requests per second.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
label() {
  case $1 in
    l4) echo "L4 keep-alive (vs HAProxy)" ;;
    h1) echo "L7 HTTP/1.1 keep-alive (vs nginx)" ;;
    h2) echo "L7 HTTP/2 (vs nginx)" ;;
    tls) echo "L7 new TLS connection per request" ;;
  esac
}

# Session resumption (the second connection offers the first one's session ticket).
# A whole request/response, so that the TLS 1.3 ticket (sent after the handshake) is in before exit.
resumes() {
  local req='GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
  printf "$req" | openssl s_client -ign_eof -connect "127.0.0.1:$1" -servername localhost -sess_out "$W/sess.$1" >/dev/null 2>&1
  printf "$req" | openssl s_client -ign_eof -connect "127.0.0.1:$1" -servername localhost -sess_in "$W/sess.$1" 2>/dev/null |
    grep -q '^Reused' && echo yes || echo no
}
echo "TLS session resumption: mc-proxy L7 $(resumes 19452), nginx L7 $(resumes 19442)"
echo "each figure: median of $REPEAT runs of ${DUR}s; PIN=${PIN:-0}; HAProxy nbthread ${HAPROXY_THREADS:-1}"
echo "CPU µs/req: the proxy process's CPU time per request (HAProxy; nginx's worker; Node with its threads)"
printf '%-36s %10s %9s %7s %10s %9s %7s %6s  %s\n' "scenario" "mcp req/s" "mcp p99" "µs/req" "ref req/s" "ref p99" "µs/req" \
  "ratio" "ratios per round"
# One round's line: req/s, p99 and CPU µs per request of the proxy measured, then of the reference,
# then the ratio of their req/s.
round() {
  awk -v a="$1" -v al="$2" -v mt="$3" -v b="$4" -v bl="$5" -v rt="$6" -v d="$DUR" -v us="$TICK_US" \
    'BEGIN { printf "%s %s %.0f %s %s %.0f %.3f\n", a, al, (a > 0 ? mt * us / (a * d) : 0), b, bl, (b > 0 ? rt * us / (b * d) : 0), (b > 0 ? a / b : 0) }'
}
# A table row from a file of rounds: the medians, and every round's ratio.
row() {
  col() { awk -v c="$1" '{print $c}' "$2" | median; }
  printf '%-36s %10.0f %7.1fms %7.0f %10.0f %7.1fms %7.0f %6.2f  %s\n' "$1" "$(col 1 "$2")" "$(col 2 "$2")" "$(col 3 "$2")" \
    "$(col 4 "$2")" "$(col 5 "$2")" "$(col 6 "$2")" "$(col 7 "$2")" "$(awk '{printf "%s ", $7}' "$2")"
}
NGINX_WORKER=$(pgrep -P "$NGINX_REF" | head -1)
for s in $SCENARIOS; do
  mine=19452 ref=19442 refpid=$NGINX_WORKER
  [ "$s" = l4 ] && mine=19451 ref=19441 refpid=$HAPROXY
  # Node's floor for this scenario, when asked for: run in each round after the reference.
  floor="" floorpid=""
  if [ "${FLOORS:-0}" = 1 ]; then
    case $s in
      h1) floor=19453 floorpid=$RELAY ;;
      tls) floor=19454 floorpid=$TLS_PROXY ;;
    esac
  fi
  : >"$W/$s.rounds"
  : >"$W/$s.floor"
  for r in $(seq "$REPEAT"); do
    # mc-proxy first in odd rounds, the reference first in even ones: neither always runs on the
    # machine the other has just warmed (or just left to a noisy neighbour).
    if [ $((r % 2)) = 1 ]; then
      t0=$(ticks "$MCP"); read -r a alat < <(load "$s" "$mine"); t1=$(ticks "$MCP")
      u0=$(ticks "$refpid"); read -r b blat < <(load "$s" "$ref"); u1=$(ticks "$refpid")
    else
      u0=$(ticks "$refpid"); read -r b blat < <(load "$s" "$ref"); u1=$(ticks "$refpid")
      t0=$(ticks "$MCP"); read -r a alat < <(load "$s" "$mine"); t1=$(ticks "$MCP")
    fi
    round "$a" "$alat" $((t1 - t0)) "$b" "$blat" $((u1 - u0)) >>"$W/$s.rounds"
    if [ -n "$floor" ]; then
      f0=$(ticks "$floorpid"); read -r c clat < <(load "$s" "$floor"); f1=$(ticks "$floorpid")
      round "$c" "$clat" $((f1 - f0)) "$b" "$blat" $((u1 - u0)) >>"$W/$s.floor"
    fi
  done
  row "$(label "$s")" "$W/$s.rounds"
  [ -s "$W/$s.floor" ] && row "  Node floor: $([ "$s" = h1 ] && echo "bare relay" || echo "bare TLS proxy")" "$W/$s.floor"
done
