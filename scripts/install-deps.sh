#!/usr/bin/env bash
# Installs the Debian 12 packages Reprise needs to build and test (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=$(for p in $(cat .ci/packages.txt); do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: $missing; run as root (sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing
