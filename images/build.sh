#!/usr/bin/env bash
# Builds the platform's container images without any image registry (`make images` runs it):
#   localhost/mcp-node:24          the Node 24 runtime base (images/scripts/build-base.sh)
#   localhost/mcp/<app>:<version>  and :latest, for mcns, cert-broker, mcproxy-registry, mcp-agent
#                                  (apps/<app>/Containerfile on a context staged by stage-app.sh)
#   localhost/mcp-busybox:1        the busybox base, and localhost/mcp/hello:1 (examples/services/hello)
# The apps must be built first (make build). Everything is cached: the bases by a hash of their
# inputs, the app images by podman's layer cache, so a second run takes seconds.
#
#   images/build.sh [APP|hello]...     (default: all)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scripts=$repo/images/scripts
stage_root=$repo/images/.tmp/stage
all_apps=(mcns cert-broker mcproxy-registry mcp-agent)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_apps[@]}" hello)
say() { printf 'images: %s\n' "$*" >&2; }

command -v podman >/dev/null || { say "podman is not installed (make apt)"; exit 1; }
[ -n "${CONTAINERS_CONF:-}" ] || [ ! -f "$repo/.tools/containers.conf" ] || export CONTAINERS_CONF=$repo/.tools/containers.conf

build() { # image tags..., then -- and podman build arguments
  local tags=()
  while [ "$1" != -- ]; do tags+=(-t "$1"); shift; done
  shift
  # docker format: OCI images cannot carry HEALTHCHECK, podman drops it with a warning.
  podman build -q --format docker --layers "${tags[@]}" "$@" >/dev/null
}

# A hash of everything an app image is made of: the base image, the app's and the workspace
# packages' built code and manifests, the lockfile, its Containerfile and the staging scripts
# (and for the agent, the podman client it carries).
app_inputs_key() {
  local app=$1
  {
    podman image inspect -f '{{.Id}}' localhost/mcp-node:24
    cat "$repo/pnpm-lock.yaml" "$repo/apps/$app/package.json" "$repo/apps/$app/Containerfile" \
      "$repo/images/healthcheck.mjs" "$scripts/stage-app.sh" "$scripts/copy-with-libs.sh"
    find "$repo/apps/$app/dist" "$repo/packages/mcdsl/dist" "$repo/packages/mcdsl/package.json" \
      "$repo/packages/proto/dist" "$repo/packages/proto/package.json" -type f -print0 |
      sort -z | xargs -0 sha256sum
    [ "$app" != mcp-agent ] || sha256sum "$(command -v podman)"
  } | sha256sum | cut -c1-16
}

for target in "${targets[@]}"; do
  t0=$(date +%s.%N)
  case "$target" in
    hello)
      "$scripts/build-busybox.sh" localhost/mcp-busybox:1
      build localhost/mcp/hello:1 -- -f "$repo/examples/services/hello/Containerfile" "$repo/examples/services/hello"
      image=localhost/mcp/hello:1
      ;;
    mcns|cert-broker|mcproxy-registry|mcp-agent)
      [ -n "${base_checked:-}" ] || { "$scripts/build-base.sh" localhost/mcp-node:24; base_checked=1; }
      version=$(node -p "require('$repo/apps/$target/package.json').version")
      image=localhost/mcp/$target:$version
      # Staging and building take seconds even when podman's cache answers: skip both when the
      # image was built from the same inputs (its label holds their hash).
      key=$(app_inputs_key "$target")
      if [ "$(podman image inspect -f '{{index .Labels "mcp.build.key"}}' "$image" 2>/dev/null || true)" = "$key" ]; then
        say "$image is up to date ($key)"
        continue
      fi
      "$scripts/stage-app.sh" "$target" "$stage_root/$target"
      build "$image" "localhost/mcp/$target:latest" -- --label "mcp.build.key=$key" \
        -f "$repo/apps/$target/Containerfile" "$stage_root/$target"
      ;;
    *) say "unknown image '$target' (known: ${all_apps[*]} hello)"; exit 1 ;;
  esac
  size=$(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}')
  say "$image ($size) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
done
# Layers no tag points at any more (earlier builds of these images).
podman image prune -f >/dev/null 2>&1 || true
