#!/bin/sh
# Checkpoint and restart of a tree of N socket pairs with MIB MiB in flight
# each, next to the same tree without sockets, in one run (issue 11).
# usage: bench/cr/socket_bench.sh BUILD_DIR WORK_DIR [N] [MIB] [REPEATS]
set -eu
build=$(cd "$1" && pwd); work=$2; n=${3:-100}; mib=${4:-1}; repeats=${5:-3}
bin=$build/bin
mkdir -p "$work"
now() { date +%s.%N; }
wait_for() { # file text
  i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i+1)); [ $i -lt 6000 ] || { echo "timeout waiting for $2" >&2; exit 1; }; sleep 0.005; done
}
one() { # mode
  d=$work/$1; rm -rf "$d"; mkdir -p "$d"; cd "$d"
  "$bin/cr_run" "$bin/programs/socket_tree" "$n" "$mib" "$1" > out 2> err &
  pid=$!
  wait_for out ready
  t0=$(now); "$bin/cr_checkpoint" --kill -f img "$pid"; t1=$(now)
  wait "$pid" 2>/dev/null || true
  size=$(stat -c %s img)
  touch resume.probe
  t2=$(now); "$bin/cr_restart" img > /dev/null 2> rerr & rpid=$!
  wait_for out resumed; t3=$(now)
  touch finish; wait "$rpid" || true
  verdict=$(grep verified out)
  echo "$1 $(echo "$t1 - $t0" | bc) $(echo "$t3 - $t2" | bc) $size $verdict"
}
echo "mode checkpoint_kill_s restart_to_running_s image_bytes verdict"
for r in $(seq "$repeats"); do one none; one sock; done
