#!/usr/bin/env bash
# Writes the containers.conf that podman needs in this sandbox (see ../shared/env-notes.md):
# crun fails here (rlimits, hybrid cgroups); runc with cgroupfs and file-based events works, and the
# same settings are harmless on an ordinary Debian host. Point CONTAINERS_CONF at it.
set -euo pipefail
out=${1:?usage: write-containers-conf.sh FILE}
tmp=$(mktemp "$out.XXXXXX")
cat >"$tmp" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
if [ -f "$out" ] && cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv "$tmp" "$out"; echo "podman: wrote $out"; fi
