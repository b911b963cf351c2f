#!/usr/bin/env bash
# The main demo (as root, on Debian 12): installs what is missing, builds,
# then runs a checkpointable program under the engine (checkpoint, kill,
# restart, and it continues), and a job through pbs_server + pbs_mom.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bin=$PWD/build/bin
work=$(mktemp -d /tmp/reprise-engine-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== the counting program under cr_run (prints Count = i every 0.2 s)"
"$bin/cr_run" "$bin/programs/counting" 20 200 > count.out 2>&1 < /dev/null &
run=$!
sleep 1.5
echo "== cr_checkpoint --kill $run"
"$bin/cr_checkpoint" -v --kill --file count.img "$run"
wait "$run" 2>/dev/null || true
echo "   output so far: $(tr '\n' ' ' < count.out)"
"$bin/cr_info" --quick count.img | head -8
echo "== cr_restart count.img (the count continues in the same file)"
"$bin/cr_restart" count.img < /dev/null
echo "   final output: $(tr '\n' ' ' < count.out)"
cd - >/dev/null
echo
bash scripts/demo-batch.sh "$bin"
