# Shared by up.sh and down.sh: where the local platform keeps its state and how its processes are
# started and found. Everything lives in .mcp-dev/ at the repository root (git-ignored).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${MCP_DEV_STATE:-$repo/.mcp-dev}   # another folder runs a second platform (the e2e tests do)
run_dir=$state/run
log_dir=$state/logs

# Ports on 127.0.0.1, chosen away from the apps' defaults so a real install on this machine does
# not collide; each can be moved with its variable.
nats_port=${MCP_DEV_NATS_PORT:-14222}
mcns_port=${MCP_DEV_MCNS_PORT:-18053}
dns_port=${MCP_DEV_DNS_PORT:-15353}
certbroker_port=${MCP_DEV_CERTBROKER_PORT:-19443}
mcproxy_port=${MCP_DEV_MCPROXY_PORT:-19093}
agent_port=${MCP_DEV_AGENT_PORT:-19444}
http_port=${MCP_DEV_HTTP_PORT:-18080}   # mc-proxy's plain-HTTP port: 308 to https:// (80 on a node)
mcproxy_socket=$run_dir/mcproxy.sock
root_ca=$state/cert-broker/ca/root.pem

# The platform's processes, in start order (down.sh stops them in reverse).
services=(nats mcns cert-broker mcproxy-registry mcp-agent)

say() { printf '%s\n' "$*"; }
mcp() { node "$repo/apps/cli/dist/main.js" "$@"; }
pid_of() { cat "$run_dir/$1.pid" 2>/dev/null; }
# Alive and not a zombie: a process whose parent is gone waits as a zombie until init reaps it,
# which some inits (containers, sandboxes) do only now and then.
alive() { [ -n "$1" ] && [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
running() { local pid; pid=$(pid_of "$1") && alive "$pid"; }
