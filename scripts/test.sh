#!/usr/bin/env bash
# Runs every test: the whole suite on a normal build, then the unit tests
# again under AddressSanitizer + UBSan. Needs root (tests create users,
# namespaces and small tmpfs mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Tests run clients and jobs as ordinary users, who must reach build/bin. A checkout inside a
# private directory (mktemp -d makes them 0700) is opened for traversal only (o+x, no read).
d=$(pwd)
while [ "$d" != / ]; do
  perm=$(stat -c %a "$d")
  if [ "$(stat -c %u "$d")" = 0 ] && (( (8#$perm & 1) == 0 )); then
    echo "test.sh: $d is private (mode $perm); adding o+x so test users can reach build/bin"
    chmod o+x "$d"
  fi
  d=$(dirname "$d")
done
bash scripts/build.sh -DREPRISE_BENCH=OFF
ctest --test-dir build -j2 --output-on-failure --timeout 900
# The sanitizer build only needs the unit-test programs (the engine's agent
# and restorer are never sanitized; see CMakeLists.txt).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPRISE_SANITIZE=ON -DREPRISE_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)" --target cr_unit_tests batch_unit_tests
ctest --test-dir build-asan -j2 --output-on-failure -L unit
