#!/usr/bin/env bash
# Builds a busybox-only base image (default localhost/mcp-busybox:1) from the host's busybox-static,
# for small example services such as examples/services/hello: a static binary, its applet links,
# /etc/passwd, and `podman import`. Skipped when the image was built from the same busybox.
set -euo pipefail
image=${1:-localhost/mcp-busybox:1}
busybox=$(readlink -f "${BUSYBOX:-$(command -v busybox || echo /bin/busybox)}")
{ ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic executable' ||
  { echo "images: $busybox is not a static busybox (apt-get install busybox-static)" >&2; exit 1; }
key=$(cat "$0" "$busybox" | sha256sum | cut -c1-16)
if [ "$(podman image inspect -f '{{index .Labels "mcp.base.key"}}' "$image" 2>/dev/null || true)" = "$key" ]; then
  echo "images: busybox: $image is up to date ($key)" >&2
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,www}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nwww:x:10001:10001:www:/www:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nwww:x:10001:\nnogroup:x:65534:\n' >"$root/etc/group"
tar -C "$root" --numeric-owner -c . | podman import -q --change 'ENV PATH=/bin' \
  --change "LABEL mcp.base.key=$key" --change 'CMD ["sh"]' - "$image" >/dev/null
echo "images: busybox: $image built ($key)" >&2
