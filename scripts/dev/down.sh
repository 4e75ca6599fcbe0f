#!/usr/bin/env bash
# `make down`: stops what `make up` started, in reverse order. The deployed containers are stopped
# with `mcp stop` first while the agent still runs; the state (.mcp-dev/) stays for the next `make up`.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$repo"
if running mcp-agent; then
  mcp stop hello >/dev/null 2>&1 && say "down: stopped the hello service" || true
fi
for (( i=${#services[@]}-1; i>=0; i-- )); do
  name=${services[$i]}
  pid=$(pid_of "$name") || continue
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid"
    say "down: stopped $name (pid $pid)"
  fi
  rm -f "$run_dir/$name.pid"
done
