#!/usr/bin/env bash
# Builds the Node 24 runtime base image (default localhost/mcp-node:24) without any image registry:
# a rootfs of the node binary, the shared libraries it loads (copied from this host), busybox-static
# as /bin/sh and its applets, /etc/passwd with the `mcp` user (10001), then `podman import`.
# About 130 MB; a few seconds. The image carries a label with a hash of everything that went into it,
# so a second run with the same inputs does nothing.
#
#   build-base.sh [IMAGE]     env: NODE_BIN (default: node on PATH, must be major 24), BUSYBOX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:-${MCP_BASE_IMAGE:-localhost/mcp-node:24}}
node_bin=$(readlink -f "${NODE_BIN:-$(command -v node)}")
busybox=$(readlink -f "${BUSYBOX:-$(command -v busybox || echo /bin/busybox)}")
say() { printf 'images: %s\n' "$*" >&2; }

major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$major" = 24 ] || { say "base: $node_bin is Node $major, the images need 24 (make node installs it in .tools/node)"; exit 1; }
{ ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic executable' ||
  { say "base: $busybox is not a static busybox (apt-get install busybox-static)"; exit 1; }

# The cache key: this script, the helper, the two binaries and the host's libraries they load.
key=$(
  {
    cat "$0" "$here/copy-with-libs.sh" "$node_bin" "$busybox"
    ldd "$node_bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | xargs -r readlink -f | xargs -r cat
  } | sha256sum | cut -c1-16
)
if [ "$(podman image inspect -f '{{index .Labels "mcp.base.key"}}' "$image" 2>/dev/null || true)" = "$key" ]; then
  say "base: $image is up to date ($key)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,var/tmp,run,home/mcp,srv,app}
# Debian 12's merged /usr: /lib64/ld-linux-x86-64.so.2 (the ELF interpreter) resolves as on the host.
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
chmod 1777 "$root/tmp" "$root/var/tmp"

"$here/copy-with-libs.sh" "$root" "$node_bin:/usr/local/bin/node"
node_home=$(dirname "$(dirname "$node_bin")")
mkdir -p "$root/usr/local/share/doc/node"
[ -f "$node_home/LICENSE" ] && cp "$node_home/LICENSE" "$root/usr/local/share/doc/node/"

# busybox: a shell and the usual tools for `podman exec -it … sh`, health checks and debugging.
cp "$busybox" "$root/usr/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
done

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
mcp:x:10001:10001:mcp platform app:/home/mcp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
mcp:x:10001:
nogroup:x:65534:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
cat >"$root/etc/os-release" <<OS
NAME="mcp-node"
ID=mcp-node
PRETTY_NAME="MCP Node $("$node_bin" --version) runtime (libraries from $(. /etc/os-release && echo "$PRETTY_NAME"))"
OS
mkdir -p "$root/root" && chmod 700 "$root/root"
chown 10001:10001 "$root/home/mcp" "$root/app"

say "base: importing $image ($(du -sm "$root" | cut -f1) MB rootfs)"
old=$(podman image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
tar -C "$root" --numeric-owner -c . | podman import -q \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_ENV=production' \
  --change "LABEL mcp.base.key=$key" \
  --change 'CMD ["node"]' - "$image" >/dev/null
# the previous build of this tag, now untagged, unless something still uses it
if [ -n "$old" ] && [ "$old" != "$(podman image inspect -f '{{.Id}}' "$image")" ]; then
  podman rmi "$old" >/dev/null 2>&1 || true
fi
say "base: $image built ($key)"
