#!/bin/bash
# tree_script.sh [ROUNDS=30] [DELAY=0.15]
#
# Bash test subject for the checkpoint/restart engine: loops with shell state
# (integers, an indexed and an associative array), a three-stage pipeline
# (producer | filter | consumer) and command substitutions every round, `sleep`
# children, and a background job whose $! is checked with `kill -0` every round
# and collected with `wait $!` at the end. The background job runs until the
# script creates the file "stop.flag" in the current directory, so run it in a
# directory of its own. Each "round" line is printed just before the round's
# `sleep`, so a checkpoint taken right after a new line usually finds the tree
# at rest (nothing else starts or exits while it sleeps). Output is
# deterministic for given arguments; lines with pids start with "ids: ".
# Exits 7.
set -u
rounds=${1:-30}
delay=${2:-0.15}
rm -f stop.flag

echo "tree_script: $rounds rounds"
echo "ids: script pid=$$"

# `nap SECONDS` sleeps without starting a process: `read -t` on a pipe from a
# coprocess that never writes (it waits for a line on its stdin, which we
# never send). The background job polls for the flag with it, so it starts no
# processes of its own while the main loop sleeps; it exits 3.
coproc NAP { read -r _; }
exec {nap_fd}<&"${NAP[0]}"
nap() { read -r -t "$1" -u "$nap_fd" _; true; }
( while :; do nap 0.2; if [ -e stop.flag ]; then exit 3; fi; done ) &
bg=$!
echo "ids: background job pid=$bg"

producer() { local n=$1; for ((i = 1; i <= n; i++)); do echo "$i"; done; }
filter() { grep -v '7$'; }
consumer() { awk '{ s += $1 * $1; c++ } END { printf "%d %d\n", c, s }'; }

declare -a history=()
declare -A by_parity=([even]=0 [odd]=0)
total=0
for ((r = 1; r <= rounds; r++)); do
  read -r count sum < <(producer $((r * 5)) | filter | consumer)
  words=$(seq 1 "$r" | tr '\n' ' ' | wc -w)
  total=$(( (total * 31 + sum + words) % 1000003 ))
  history+=("$count")
  if (( r % 2 == 0 )); then by_parity[even]=$(( by_parity[even] + sum )); else by_parity[odd]=$(( by_parity[odd] + sum )); fi
  if kill -0 "$bg" 2>/dev/null; then alive=alive; else alive=GONE; fi
  echo "round $r: count=$count sum=$sum words=$words total=$total background=$alive"
  sleep "$delay"
done

touch stop.flag
wait "$bg"
echo "background job exited with $?"
exec {NAP[1]}>&-   # the coprocess reads EOF and exits
wait
rm -f stop.flag
echo "history: ${history[*]}"
echo "by parity: even=${by_parity[even]} odd=${by_parity[odd]}"
echo "ids: script pid at end=$$"
echo "tree_script: done"
exit 7
