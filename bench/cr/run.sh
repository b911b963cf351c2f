#!/bin/sh
# Checkpoint/restart benchmark: prints a markdown table.
# usage: bench/cr/run.sh [BUILD_DIR] [WORK_DIR]
#   BUILD_DIR  CMake build directory holding bin/cr_bench, the engine tools
#              and bin/programs/ (default: $REPRISE_BUILD or ./build)
#   WORK_DIR   where images and dd files go (default /var/tmp/reprise-crbench)
#   CR_BENCH_SIZES=64,256,1024  CR_BENCH_REPS=5
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${REPRISE_BUILD:-$here/../../build}}
work=${2:-/var/tmp/reprise-crbench}
for tool in cr_bench cr_run cr_checkpoint cr_restart; do
    if [ ! -x "$build/bin/$tool" ]; then
        echo "run.sh: $build/bin/$tool not built (cmake --build $build --target cr_bench cr_run cr_checkpoint cr_restart)" >&2
        exit 1
    fi
done
exec "$build/bin/cr_bench" --bin "$build/bin" --programs "$build/bin/programs" \
    --work "$work" --sizes "${CR_BENCH_SIZES:-64,256,1024}" --reps "${CR_BENCH_REPS:-5}"
