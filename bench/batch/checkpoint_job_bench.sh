#!/usr/bin/env bash
# Checkpointable-job benchmark (issue 5, item 8): a job holding 1 GiB of touched,
# incompressible memory that then counts; measures
#   qhold -> job_state H        (checkpoint of 1 GiB + stop, reported to the server)
#   qrls  -> job_state R        (requeue + scheduling + restart started)
#   qrls  -> next count printed (the restored program running again)
# median (and min/max) of RUNS runs, printed as a markdown table.
#
# usage (as root): bench/batch/checkpoint_job_bench.sh
#   REPRISE_BIN=DIR   built binaries (default: ./build/bin)
#   MIB=1024 RUNS=3   memory held by the job, number of runs
#   BENCH_USER=reprise_bench  the job owner (created if missing)
#   CKDIR=DIR         checkpoint directory (default: PBS_HOME/checkpoint, under /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${REPRISE_BIN:-$here/build/bin}
mib=${MIB:-1024}
runs=${RUNS:-3}
user=${BENCH_USER:-reprise_bench}
[[ $(id -u) == 0 ]] || { echo "checkpoint_job_bench: run as root" >&2; exit 1; }
for p in pbs_server pbs_mom qsub qstat qhold qrls qdel cr_run cr_checkpoint cr_restart; do
  [[ -x $bin/$p ]] || { echo "checkpoint_job_bench: $bin/$p missing (build it, or set REPRISE_BIN)" >&2; exit 1; }
done
id "$user" >/dev/null 2>&1 || useradd -m "$user"

tmp=$(mktemp -d /tmp/reprise-ckbench.XXXXXX)
chmod 755 "$tmp"
export PBS_HOME=$tmp/home
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
id=
cleanup() {
  if [[ -n $id ]]; then "$bin/qdel" "$id" >/dev/null 2>&1 || true; sleep 1; fi
  [[ -f $PBS_HOME/mom_priv/mom.lock ]] && kill "$(cat "$PBS_HOME/mom_priv/mom.lock")" 2>/dev/null || true
  [[ -f $PBS_HOME/server_priv/server.lock ]] && kill "$(cat "$PBS_HOME/server_priv/server.lock")" 2>/dev/null || true
  [[ -f $tmp/munged.pid ]] && kill "$(cat "$tmp/munged.pid")" 2>/dev/null || true
  sleep 0.5
  [[ -n ${KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT

mungekey -c -k "$tmp/munge.key" -b 1024 && chmod 600 "$tmp/munge.key"
munged -f --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed"
export MUNGE_SOCKET=$tmp/munge.sock
"$bin/pbs_server" -d "$PBS_HOME" -t create -p "$port" -L 127.0.0.1
"$bin/pbs_mom" -d "$PBS_HOME"
for _ in $(seq 100); do "$bin/pbsnodes" -a 2>/dev/null | grep -q "state = free" && break; sleep 0.1; done
if [[ -n ${CKDIR:-} ]]; then
  mkdir -p "$CKDIR"
  "$bin/qmgr" -c "set queue batch checkpoint_dir=$CKDIR"
fi

work=$tmp/work
mkdir -p "$work" && chown "$user" "$work"
cat > "$work/hold_mem.c" <<'EOF'
/* Touches MIB MiB of incompressible memory, prints "ready", then counts
 * ("Count = i" every 100 ms) while keeping the memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024, words = mib << 17;
  uint64_t *m = malloc(words * 8), x = 0x9e3779b97f4a7c15ULL, sum = 0;
  if (!m) return 1;
  for (size_t i = 0; i < words; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    m[i] = x;
  }
  printf("ready %zu MiB\n", mib);
  fflush(stdout);
  struct timespec ts = {0, 100 * 1000 * 1000};
  for (long i = 0;; i++) {
    sum += m[(i * 4099) % words];
    printf("Count = %ld\n", i);
    fflush(stdout);
    nanosleep(&ts, 0);
  }
  return (int)(sum & 1);
}
EOF
chown "$user" "$work/hold_mem.c"
runuser -u "$user" -- gcc -O2 -o "$work/hold_mem" "$work/hold_mem.c"

as_user() { runuser -u "$user" -- env PBS_HOME="$PBS_HOME" MUNGE_SOCKET="$MUNGE_SOCKET" "$@"; }
now() { date +%s.%N; }
state() { "$bin/qstat" -f "$1" 2>/dev/null | sed -n 's/^    job_state = //p'; }
wait_state() {  # job state timeout_s
  local end=$(( $(date +%s) + $3 ))
  while [[ $(state "$1") != "$2" ]]; do
    (( $(date +%s) < end )) || { echo "checkpoint_job_bench: $1 not in state $2 after $3 s" >&2; exit 1; }
    sleep 0.01
  done
}
lines() { local n; n=$(grep -c . "$1" 2>/dev/null) || true; echo "${n:-0}"; }

declare -a hold_s rls_s count_s image_mib
for r in $(seq "$runs"); do
  # Submitted from the work dir: the output file goes to the submission directory.
  id=$(cd "$work" && as_user "$bin/qsub" -c enabled -N ckbench -d "$work" <<<"./hold_mem $mib")
  out=$work/ckbench.o${id%%.*}
  wait_state "$id" R 60
  for _ in $(seq 1200); do [[ $(lines "$out") -ge 5 ]] && break; sleep 0.1; done
  [[ $(lines "$out") -ge 5 ]] || { echo "checkpoint_job_bench: job $id did not start counting" >&2; exit 1; }
  t0=$(now)
  as_user "$bin/qhold" "$id"
  wait_state "$id" H 600
  t1=$(now)
  name=$("$bin/qstat" -f "$id" | sed -n 's/^    checkpoint_name = //p')
  dir=$("$bin/qstat" -f "$id" | sed -n 's/^    checkpoint_dir = //p')
  img=$(find "$dir" -name "$name" -printf '%s\n' 2>/dev/null | head -1)
  held=$(lines "$out")
  sync; sleep 1
  t2=$(now)
  as_user "$bin/qrls" "$id"
  wait_state "$id" R 600
  t3=$(now)
  while [[ $(lines "$out") -le $held ]]; do
    [[ $(state "$id") == R ]] || { echo "checkpoint_job_bench: job $id left R before counting again" >&2; exit 1; }
    sleep 0.01
  done
  t4=$(now)
  hold_s+=("$(echo "$t1 - $t0" | bc)")
  rls_s+=("$(echo "$t3 - $t2" | bc)")
  count_s+=("$(echo "$t4 - $t2" | bc)")
  image_mib+=("$(( ${img:-0} / 1048576 ))")
  as_user "$bin/qdel" "$id" >/dev/null
  wait_state "$id" C 60
  rm -rf "${dir%/}/$id.CK"
  id=
  echo "run $r: qhold->H ${hold_s[-1]} s, qrls->R ${rls_s[-1]} s, qrls->counting ${count_s[-1]} s, image ${image_mib[-1]} MiB" >&2
done

stats() {  # median min max of the arguments
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
    printf "%.3f | %.3f | %.3f", m, v[1], v[NR]}'
}
echo
echo "Checkpointable job holding ${mib} MiB ($runs runs, image ~${image_mib[0]} MiB, $(nproc) cores, $(uname -r))"
echo
echo "| step | median (s) | min (s) | max (s) |"
echo "|---|---:|---:|---:|"
echo "| qhold -> state H (checkpoint + stop) | $(stats "${hold_s[@]}") |"
echo "| qrls -> state R | $(stats "${rls_s[@]}") |"
echo "| qrls -> job counting again (restored) | $(stats "${count_s[@]}") |"
