#!/usr/bin/env bash
# Copies ELF binaries into a rootfs together with every shared library they load (as ldd resolves
# them on this host), at the same paths, so the rootfs needs no package manager. The host's glibc
# comes along, which is why the images are built on the architecture and distribution they run on.
#
#   copy-with-libs.sh ROOTFS BINARY[:DEST]...    (DEST defaults to BINARY's own path)
set -euo pipefail
root=${1:?usage: copy-with-libs.sh ROOTFS BINARY[:DEST]...}
shift
copy_file() { # source, destination inside the rootfs
  mkdir -p "$root$(dirname "$2")"
  cp -L --preserve=mode "$1" "$root$2"
}
for spec in "$@"; do
  bin=${spec%%:*}
  dest=${spec#*:}
  [ "$dest" = "$spec" ] && dest=$bin
  [ -x "$bin" ] || { echo "copy-with-libs: $bin is not an executable file" >&2; exit 1; }
  copy_file "$bin" "$dest"
  # ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
  ldd "$bin" | awk '/not found/ { print "missing:" $1; next } $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    while read -r lib; do
      case "$lib" in missing:*) echo "copy-with-libs: $bin needs ${lib#missing:}, which this host lacks" >&2; exit 1;; esac
      [ -e "$root$lib" ] || copy_file "$lib" "$lib"
    done
done
