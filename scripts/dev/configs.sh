# Writes every app's config and the tokens they share into .mcp-dev/ (sourced by up.sh after lib.sh).
# Configs are rewritten on every run (they follow the ports above); tokens are minted once.

mint() { # token name, role, then the tokens files of every service that must accept it
  local name=$1 role=$2; shift 2
  local file=$state/tokens/$name
  [ -s "$file" ] && return 0
  (umask 077; mcp token create --name "$name" --role "$role" --file "$@" >"$file")
}

write_configs() {
  mkdir -p "$state"/{nats,mcns,cert-broker,mcproxy,agent,certs,tokens} "$run_dir" "$log_dir"
  chmod 700 "$state/tokens"
  # One admin token for the operator, valid on every API; an agent token for MCNS and cert-broker.
  mint admin admin "$state/mcns/tokens.toml" "$state/cert-broker/tokens.toml" \
    "$state/mcproxy/tokens.toml" "$state/agent/tokens.toml"
  mint agent agent "$state/mcns/tokens.toml" "$state/cert-broker/tokens.toml"

  cat >"$state/mcns/mcns.toml" <<TOML
[server]
listen = "127.0.0.1:$mcns_port"
[dns]
listen = "127.0.0.1:$dns_port"
[auth]
tokens_file = "$state/mcns/tokens.toml"
[database]
path = "$state/mcns/mcns.db"
[events]
servers = ["nats://127.0.0.1:$nats_port"]
node = "local"
[[zones]]
name = "svc.mcp.metacircular.net"
primary_ns = "ns1.mcp.metacircular.net"
admin_mailbox = "hostmaster.metacircular.net"
negative_ttl = 60
default_ttl = 60
writers = ["agent"]
TOML

  cat >"$state/cert-broker/cert-broker.toml" <<TOML
[server]
listen = "127.0.0.1:$certbroker_port"
[auth]
tokens_file = "$state/cert-broker/tokens.toml"
[database]
path = "$state/cert-broker/cert-broker.db"
[certificates]
cert_dir = "$state/certs"
keys_dir = "$state/cert-broker/keys"
[local]
ca_dir = "$state/cert-broker/ca"
root_name = "MCP Local Development Root CA"
intermediate_name = "MCP Local Development Issuing CA"
[events]
servers = ["nats://127.0.0.1:$nats_port"]
node = "local"
TOML

  cat >"$state/mcproxy/mcproxy-registry.toml" <<TOML
[server]
listen = "127.0.0.1:$mcproxy_port"
socket = "$mcproxy_socket"
socket_mode = 0o600
[auth]
tokens_file = "$state/mcproxy/tokens.toml"
[database]
path = "$state/mcproxy/routes.db"
[proxy]
bind = "127.0.0.1"
cert_dir = "$state/certs"
bootstrap_file = "$state/mcproxy/routes.toml"
drain_timeout_ms = 2000
http_redirect_port = $http_port
[events]
servers = ["nats://127.0.0.1:$nats_port"]
node = "local"
TOML

  cat >"$state/agent/mcp-agent.toml" <<TOML
[server]
listen = "127.0.0.1:$agent_port"
[auth]
tokens_file = "$state/agent/tokens.toml"
[database]
path = "$state/agent/registry.db"
[node]
name = "local"
address = "127.0.0.1"
[mcns]
url = "http://127.0.0.1:$mcns_port"
token_file = "$state/tokens/agent"
[cert_broker]
url = "http://127.0.0.1:$certbroker_port"
token_file = "$state/tokens/agent"
ca_file = "$state/agent/root-ca.pem"
[mcproxy]
socket = "$mcproxy_socket"
drain_timeout_ms = 2000
[events]
servers = ["nats://127.0.0.1:$nats_port"]
[ports]
# Leased host ports stay clear of the platform's own ports above.
min = 20000
max = 29999
[files]
# mcp push / pull: each service's directory (/srv/<service> on a node).
root = "$state/srv"
TOML

  cat >"$state/endpoints.json" <<JSON
{
  "nats": "nats://127.0.0.1:$nats_port",
  "dns": "127.0.0.1:$dns_port",
  "mcns": "http://127.0.0.1:$mcns_port",
  "certbroker": "http://127.0.0.1:$certbroker_port",
  "mcproxy": "http://127.0.0.1:$mcproxy_port",
  "mcproxy_socket": "$mcproxy_socket",
  "proxy": { "bind": "127.0.0.1", "ports": [8443] },
  "agent": "http://127.0.0.1:$agent_port",
  "ca_file": "$root_ca",
  "admin_token_file": "$state/tokens/admin"
}
JSON
}
