#!/usr/bin/env bash
# `make up`: the platform on this machine, state under .mcp-dev/. Until the apps exist (issues 4-8)
# that is nats-server with JetStream and the sample note service built on mcdsl. Safe to run twice:
# what is running is left alone, what is missing is started.
set -euo pipefail
cd "$(dirname "$0")/.."
state=$PWD/.mcp-dev
nats_port=${MCP_DEV_NATS_PORT:-14222}
notes_port=${MCP_DEV_NOTES_PORT:-18080}
mcp() { node apps/cli/dist/main.js "$@"; }
mkdir -p "$state"/{nats,notes,tokens,logs,run}
chmod 700 "$state/tokens"

running() { [ -f "$state/run/$1.pid" ] && kill -0 "$(cat "$state/run/$1.pid")" 2>/dev/null; }

wait_for() { # name, command that succeeds when ready
  for _ in $(seq 1 100); do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "up: $1 did not come up; its log: $state/logs/$1.log" >&2
  tail -n 20 "$state/logs/$1.log" >&2 || true
  exit 1
}

start() { # name, command...
  local name=$1; shift
  if running "$name"; then echo "up: $name already running (pid $(cat "$state/run/$name.pid"))"; return; fi
  nohup "$@" >>"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/run/$name.pid"
  echo "up: started $name (pid $!, log .mcp-dev/logs/$name.log)"
}

start nats nats-server -js -sd "$state/nats" -a 127.0.0.1 -p "$nats_port"
wait_for nats "bash -c '</dev/tcp/127.0.0.1/$nats_port'"

if [ ! -f "$state/tokens/admin" ]; then
  mcp token create --name admin --role admin --file "$state/notes/tokens.toml" >"$state/tokens/admin"
  chmod 600 "$state/tokens/admin"
  echo "up: minted the admin token (.mcp-dev/tokens/admin)"
fi
cat >"$state/notes/note-service.toml" <<TOML
[server]
listen = "127.0.0.1:$notes_port"
socket = "$state/run/notes.sock"
[auth]
tokens_file = "$state/notes/tokens.toml"
[database]
path = "$state/notes/notes.db"
[events]
servers = ["nats://127.0.0.1:$nats_port"]
node = "$(hostname)"
TOML
start notes node examples/note-service/dist/main.js --config "$state/notes/note-service.toml"
wait_for notes "curl -sf http://127.0.0.1:$notes_port/readyz"

cat >"$state/endpoints.json" <<JSON
{
  "nats": "nats://127.0.0.1:$nats_port",
  "notes": "http://127.0.0.1:$notes_port",
  "notes_socket": "$state/run/notes.sock",
  "admin_token_file": "$state/tokens/admin"
}
JSON

token=$(cat "$state/tokens/admin")
check() { # description, command
  if eval "$2" >/dev/null 2>&1; then echo "  ok    $1"; else echo "  FAIL  $1"; failed=1; fi
}
failed=0
echo "checks:"
check "nats-server answers on 127.0.0.1:$nats_port" "bash -c '</dev/tcp/127.0.0.1/$nats_port'"
check "note service is ready (GET /readyz)" "curl -sf http://127.0.0.1:$notes_port/readyz"
check "REST with the admin token (GET /v1/notes)" "curl -sf -H 'authorization: Bearer $token' http://127.0.0.1:$notes_port/v1/notes"
check "REST without a token is refused (401)" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$notes_port/v1/notes)\" = 401 ]"
check "metrics are served (GET /metrics)" "curl -sf http://127.0.0.1:$notes_port/metrics | grep -q process_cpu"
echo "up: endpoints in .mcp-dev/endpoints.json; the README's tour starts here. Stop with: make down"
exit $failed
