#!/usr/bin/env bash
# Stages one app's image build context in DIR: app/ = the built dist/, package.json and the
# production node_modules (`pnpm deploy --prod`), plus the shared healthcheck; for mcp-agent also
# podman-root/ = the podman client and its libraries (the agent drives the host's podman service).
#
#   stage-app.sh APP DIR
#
# `--legacy`: pnpm 10 deploys from a shared lockfile only with inject-workspace-packages=true, which
# would turn the workspace's live links to packages/* into copies for every developer; the legacy
# deploy copies the workspace packages (@mcp/mcdsl, @mcp/proto) with their built dist/ just the same.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
app=${1:?usage: stage-app.sh APP DIR}
out=${2:?usage: stage-app.sh APP DIR}
src=$repo/apps/$app
[ -f "$src/dist/main.js" ] || { echo "images: apps/$app is not built (run: make build)" >&2; exit 1; }
for pkg in mcdsl proto; do
  [ -d "$repo/packages/$pkg/dist" ] || { echo "images: packages/$pkg is not built (run: make build)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out"
name=$(node -p "require('$src/package.json').name")
(cd "$repo" && pnpm --filter "$name" deploy --prod --legacy --reporter=silent "$out/deploy") >/dev/null 2>"$out/deploy.log" ||
  { cat "$out/deploy.log" >&2; exit 1; }

# What the image needs of the deployed folder: dist/, package.json, node_modules (without the
# workspace packages' sources and tests, nor better-sqlite3's C sources and other platforms' binaries).
mkdir -p "$out/app"
mv "$out/deploy/dist" "$out/deploy/package.json" "$out/deploy/node_modules" "$out/app/"
rm -rf "$out/deploy" "$out/deploy.log"
for ws in "$out"/app/node_modules/.pnpm/@mcp+*/node_modules/@mcp/*; do
  find "$ws" -mindepth 1 -maxdepth 1 ! -name dist ! -name package.json ! -name node_modules -exec rm -rf {} +
done
platform=$(node -p 'process.platform + "-" + process.arch')
for sqlite in "$out"/app/node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3; do
  [ -d "$sqlite" ] || continue
  rm -rf "$sqlite/deps" "$sqlite/src"
  find "$sqlite/prebuilds" -type f ! -name "$platform.node" -delete 2>/dev/null || true
done
cp "$repo/images/healthcheck.mjs" "$out/app/healthcheck.mjs"

if [ "$app" = mcp-agent ]; then
  podman_bin=$(command -v podman) || { echo "images: podman is not installed" >&2; exit 1; }
  "$repo/images/scripts/copy-with-libs.sh" "$out/podman-root" "$podman_bin:/usr/bin/podman"
fi
