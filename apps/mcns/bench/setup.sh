#!/bin/sh
# Installs what the benchmark runs: dnsperf (the load generator) and NSD (the reference server).
set -e
missing=""
command -v dnsperf >/dev/null || missing="$missing dnsperf"
command -v nsd >/dev/null || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
command -v dig >/dev/null || missing="$missing dnsutils"
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
# The package starts a system NSD on port 53; the benchmark runs its own on a high port.
systemctl stop nsd 2>/dev/null || pkill -x nsd 2>/dev/null || true
