#!/usr/bin/env bash
# `make up`: the whole platform on this machine, its state in .mcp-dev/. Starts nats-server, MCNS,
# cert-broker (local CA), mcproxy-registry and the agent with generated configs and tokens, builds
# the example image, deploys examples/services/hello.toml with `mcp deploy`, then proves it and
# prints each check. Safe to run twice: what runs is left alone, the deploy of an unchanged
# definition changes nothing. `make down` stops it all; the state stays for the next `make up`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/configs.sh"
cd "$repo"

start() { # name, readiness check, command...
  local name=$1 ready=$2; shift 2
  if running "$name"; then
    say "up: $name already running (pid $(pid_of "$name"))"
  else
    nohup "$@" >>"$log_dir/$name.log" 2>&1 &
    echo $! >"$run_dir/$name.pid"
    say "up: started $name (pid $!, log .mcp-dev/logs/$name.log)"
  fi
  for _ in $(seq 1 150); do
    eval "$ready" >/dev/null 2>&1 && return 0
    running "$name" || break
    sleep 0.1
  done
  say "up: $name is not ready; the end of .mcp-dev/logs/$name.log:" >&2
  tail -n 20 "$log_dir/$name.log" >&2 || true
  exit 1
}

say "up: building the example image (localhost/mcp/hello:1)"
images/build.sh hello

write_configs
node=$(command -v node)
start nats "bash -c '</dev/tcp/127.0.0.1/$nats_port'" \
  nats-server -js -sd "$state/nats" -a 127.0.0.1 -p "$nats_port"
start mcns "curl -sf http://127.0.0.1:$mcns_port/readyz" \
  "$node" --max-semi-space-size=8 apps/mcns/dist/main.js --config "$state/mcns/mcns.toml"
start cert-broker "curl -sf http://127.0.0.1:$certbroker_port/readyz" \
  "$node" apps/cert-broker/dist/main.js --config "$state/cert-broker/cert-broker.toml"
start mcproxy-registry "curl -sf http://127.0.0.1:$mcproxy_port/readyz" \
  "$node" --max-semi-space-size=8 --single-threaded-gc apps/mcproxy-registry/dist/main.js --config "$state/mcproxy/mcproxy-registry.toml"
start mcp-agent "curl -sf http://127.0.0.1:$agent_port/readyz" \
  "$node" apps/mcp-agent/dist/main.js --config "$state/agent/mcp-agent.toml"

say "up: mcp deploy examples/services/hello.toml"
mcp deploy examples/services/hello.toml

exec "$repo/scripts/dev/check.sh"
