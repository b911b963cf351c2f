#!/bin/bash
# steady_pipeline.sh [ITEMS=150] [DELAY=0.03]
#
# Bash test subject for the checkpoint/restart engine whose process tree does
# not change while it runs: a three-stage pipeline of bash subshells
# (producer | filter | consumer) with data flowing through both pipes, a
# coprocess, and a background job polled with `kill -0 $bg` and collected with
# `wait $bg`. Every stage waits with the `read -t` builtin on a pipe that
# never gets data,
# so after the start no process is created or exits until the end: any moment
# is a good moment for a checkpoint. Only the consumer prints while data
# flows. Output is deterministic; lines with pids start with "ids: ". The
# background job stops when "stop.flag" appears in the current directory, so
# run it in a directory of its own. Exits 6.
set -u
items=${1:-150}
delay=${2:-0.03}
rm -f stop.flag
echo "steady_pipeline: $items items"
echo "ids: script pid=$$"

# `nap SECONDS` sleeps without starting a process: `read -t` on a pipe from a
# coprocess that never writes (it waits for a line on its stdin, which we
# never send).
coproc NAP { read -r _; }
exec {nap_fd}<&"${NAP[0]}"
nap() { read -r -t "$1" -u "$nap_fd" _; true; }

( while :; do nap 0.2; if [ -e stop.flag ]; then exit 3; fi; done ) &
bg=$!
echo "ids: background job pid=$bg"

producer() {
  for ((i = 1; i <= items; i++)); do
    echo "$i $(( (i * i) % 97 ))"
    nap "$delay"
  done
}
filter() {
  local n v
  while read -r n v; do
    if (( n % 5 != 0 )); then echo "$n $(( v + n ))"; fi
  done
}
consumer() {
  local n v sum=0 count=0
  declare -A seen=()
  while read -r n v; do
    sum=$(( sum + v ))
    count=$(( count + 1 ))
    seen[$(( v % 7 ))]=$(( ${seen[$(( v % 7 ))]:-0} + 1 ))
    echo "got $n -> $v (count=$count sum=$sum)"
  done
  echo "consumer: count=$count sum=$sum buckets=${seen[0]:-0},${seen[1]:-0},${seen[2]:-0},${seen[3]:-0},${seen[4]:-0},${seen[5]:-0},${seen[6]:-0}"
}

producer | filter | consumer
echo "pipeline statuses: ${PIPESTATUS[*]}"
if kill -0 "$bg" 2>/dev/null; then echo "background job alive after the pipeline"; fi
: > stop.flag
wait "$bg"
echo "background job exited with $?"
exec {NAP[1]}>&-   # the coprocess reads EOF and exits
wait
echo "ids: script pid at end=$$"
echo "steady_pipeline: done"
exit 6
