#!/usr/bin/env bash
# Runs every test: the whole suite on a normal build, then the unit tests
# again under AddressSanitizer + UBSan. Needs root (tests create users,
# namespaces and small tmpfs mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build -j2 --output-on-failure --timeout 600
BUILD_DIR=build-asan bash scripts/build.sh -DREPRISE_SANITIZE=ON -DREPRISE_BENCH=OFF
ctest --test-dir build-asan -j2 --output-on-failure -LE integration
