#!/usr/bin/env bash
# The main demo (as root, on Debian 12): installs what is missing, builds, and
# walks through TORQUE's "Job Checkpoint and Restart" chapter with Reprise:
# pbs_server + pbs_mom on this machine (temporary PBS_HOME, free loopback
# ports, MUNGE), the chapter's counting program as a checkpointable job,
# qhold (checkpoint + stop), qstat -f, qrls (restart), and the output file
# continuing where it stopped.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [[ -z ${REPRISE_BIN:-} ]]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi
bin=${REPRISE_BIN:-$here/build/bin}
[[ $(id -u) == 0 ]] || { echo "demo: run as root (pbs_mom starts jobs as their owners)" >&2; exit 1; }

user=${DEMO_USER:-reprise_demo}
id "$user" >/dev/null 2>&1 || useradd -m "$user"
tmp=$(mktemp -d /tmp/reprise-demo.XXXXXX)
chmod 755 "$tmp"
export PBS_HOME=$tmp/home
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  [[ -f $PBS_HOME/mom_priv/mom.lock ]] && kill "$(cat "$PBS_HOME/mom_priv/mom.lock")" 2>/dev/null || true
  [[ -f $PBS_HOME/server_priv/server.lock ]] && kill "$(cat "$PBS_HOME/server_priv/server.lock")" 2>/dev/null || true
  [[ -f $tmp/munged.pid ]] && kill "$(cat "$tmp/munged.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$tmp"
}
[[ -n ${KEEP:-} ]] || trap cleanup EXIT
as_user() { runuser -u "$user" -- env PBS_HOME="$PBS_HOME" MUNGE_SOCKET="$MUNGE_SOCKET" PATH="$bin:$PATH" "$@"; }
say() { printf '\n\033[1m> %s\033[0m\n' "$*"; }

mungekey -c -k "$tmp/munge.key" -b 1024 && chmod 600 "$tmp/munge.key"
munged -f --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed"
export MUNGE_SOCKET=$tmp/munge.sock
"$bin/pbs_server" -d "$PBS_HOME" -t create -p "$port" -L 127.0.0.1
"$bin/pbs_mom" -d "$PBS_HOME"
for _ in $(seq 100); do "$bin/pbsnodes" -a 2>/dev/null | grep -q "state = free" && break; sleep 0.1; done
echo "pbs_server and pbs_mom are up (PBS_HOME=$PBS_HOME, port $port)"

work=$tmp/work
mkdir -p "$work" && chown "$user" "$work"
cd "$work"
cat > test.c <<'EOF'
#include "stdio.h"
#include "unistd.h"
int main( int argc, char *argv[] )
{
int i;
        for (i=0; i<100; i++)
        {
                printf("i = %d\n", i);
                fflush(stdout);
                sleep(1);
        }
}
EOF
printf '#!/bin/bash\n\n./test\n' > test.sh
chown "$user" test.c test.sh
say "gcc -o test test.c"
as_user gcc -o test test.c
say "qsub -c enabled,periodic,shutdown,interval=1 -d $work test.sh"
jobid=$(as_user qsub -c enabled,periodic,shutdown,interval=1 -d "$work" test.sh)
echo "$jobid"
say "qstat"
as_user qstat
out=$work/test.sh.o${jobid%%.*}
for _ in $(seq 100); do [[ $(grep -c . "$out" 2>/dev/null) -ge 6 ]] && break; sleep 0.2; done
say "tail $out"
tail -3 "$out"
say "qhold $jobid"
as_user qhold "$jobid"
for _ in $(seq 100); do as_user qstat -f "$jobid" | grep -q "job_state = H" && break; sleep 0.2; done
say "qstat"
as_user qstat
say "qstat -f $jobid | grep -i checkpoint"
as_user qstat -f "$jobid" | grep -iE "checkpoint|job_state"
lines=$(grep -c . "$out")
echo "(the output file stops at $lines lines while the job is held)"
sleep 3
say "qrls $jobid"
as_user qrls "$jobid"
for _ in $(seq 100); do as_user qstat -f "$jobid" | grep -q "job_state = R" && break; sleep 0.2; done
as_user qstat
for _ in $(seq 50); do [[ $(grep -c . "$out") -gt $((lines + 3)) ]] && break; sleep 0.2; done
say "tail $out   (the count continues)"
tail -6 "$out"
say "qdel $jobid"
as_user qdel "$jobid"
