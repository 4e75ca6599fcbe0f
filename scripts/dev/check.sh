#!/usr/bin/env bash
# Proves the local platform works, the way a user would check it; one line per check. `make up`
# ends with it; run it again any time (scripts/dev/check.sh). Exit status: the number of failures.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$repo"
host=hello.svc.mcp.metacircular.net
failed=0
check() { # description, command (its output is shown under the line when it fails)
  local out
  if out=$(eval "$2" 2>&1); then say "  ok    $1"; else say "  FAIL  $1"; printf '%s\n' "$out" | sed 's/^/        /'; failed=$((failed + 1)); fi
}

say "checks:"
check "dig answers $host from MCNS (127.0.0.1:$dns_port)" \
  "[ \"\$(dig @127.0.0.1 -p $dns_port +short $host A)\" = 127.0.0.1 ]"
check "curl https://$host:8443/ through mc-proxy, chain verified against the local root CA" \
  "curl -sSf --cacert $root_ca --resolve $host:8443:127.0.0.1 https://$host:8443/ | grep -qi hello"
check "curl -L http://$host:$http_port/ is sent on to https:// (mc-proxy's plain-HTTP port) and gets the page" \
  "curl -sSfL --cacert $root_ca --resolve $host:$http_port:127.0.0.1 --resolve $host:8443:127.0.0.1 http://$host:$http_port/ | grep -qi hello"
check "mcp status shows hello running" "mcp status hello | grep -qi running"
check "mcp events shows the deploy's timeline (started … completed)" \
  "mcp events --filter 'mcp.deploy.hello.>' | grep -q completed"
say ""
say "The platform is up; state, logs and endpoints are in .mcp-dev/. Try:"
say "  node apps/cli/dist/main.js status        # or: alias mcp='node $repo/apps/cli/dist/main.js'"
say "  node apps/cli/dist/main.js events"
say "  curl --cacert .mcp-dev/cert-broker/ca/root.pem --resolve $host:8443:127.0.0.1 https://$host:8443/"
say "Stop it with: make down"
exit $failed
