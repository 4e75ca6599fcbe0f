#!/usr/bin/env bash
# `make down`: stops what `make up` started; the state (.mcp-dev/) stays for the next `make up`.
set -uo pipefail
cd "$(dirname "$0")/.."
run=$PWD/.mcp-dev/run
for name in notes nats; do
  pidfile=$run/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "down: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
