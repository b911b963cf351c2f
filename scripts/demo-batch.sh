#!/bin/bash
# Demo of the Reprise batch system: a server and a mom in a temporary PBS_HOME on free
# loopback ports, MUNGE between them, one job submitted as an ordinary user.
# Usage (as root): scripts/demo-batch.sh [BIN_DIR]     (default: build-batch/bin or build/bin)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [[ -z $bin ]]; then
  for d in "$here/build-batch/bin" "$here/build/bin"; do [[ -x $d/pbs_server ]] && bin=$d && break; done
fi
[[ -n $bin && -x $bin/pbs_server ]] || { echo "demo: cannot find pbs_server; build first (cmake --build build-batch)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "demo: run as root (pbs_mom starts jobs as their owners)" >&2; exit 1; }
command -v munged >/dev/null || { echo "demo: munged not installed (apt-get install munge)" >&2; exit 1; }

user=${DEMO_USER:-reprise_demo}
id "$user" >/dev/null 2>&1 || useradd -m "$user"

tmp=$(mktemp -d /tmp/reprise-demo.XXXXXX)
chmod 755 "$tmp"
export PBS_HOME=$tmp/home
# A loopback port nobody listens on (bash's /dev/tcp connect fails on a free port).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
port=$(free_port)

cleanup() {
  [[ -f $PBS_HOME/mom_priv/mom.lock ]] && kill "$(cat "$PBS_HOME/mom_priv/mom.lock")" 2>/dev/null || true
  [[ -f $PBS_HOME/server_priv/server.lock ]] && kill "$(cat "$PBS_HOME/server_priv/server.lock")" 2>/dev/null || true
  [[ -f $tmp/munged.pid ]] && kill "$(cat "$tmp/munged.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== munged with a fresh key"
mungekey -c -k "$tmp/munge.key" -b 1024
chmod 600 "$tmp/munge.key"
munged -f --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed"
chmod 755 "$tmp"
export MUNGE_SOCKET=$tmp/munge.sock

echo "== pbs_server -t create in $PBS_HOME, port $port"
"$bin/pbs_server" -d "$PBS_HOME" -t create -p "$port" -L 127.0.0.1
echo "== pbs_mom"
"$bin/pbs_mom" -d "$PBS_HOME"
for _ in $(seq 50); do "$bin/pbsnodes" -a | grep -q "state = free" && break; sleep 0.1; done
"$bin/pbsnodes" -a

work=$tmp/work
mkdir -p "$work" && chown "$user" "$work"
cat > "$work/hello.sh" <<'JOB'
#!/bin/bash
#PBS -N hello
#PBS -l walltime=00:01:00
echo "Hello from job $PBS_JOBID ($PBS_JOBNAME) on $(hostname) as $(id -un)"
echo "submitted from $PBS_O_WORKDIR on $PBS_O_HOST, queue $PBS_QUEUE, nodes in $PBS_NODEFILE:"
cat "$PBS_NODEFILE"
JOB
chmod 644 "$work/hello.sh"

echo "== qsub (as $user)"
as_user() { runuser -u "$user" -- env PBS_HOME="$PBS_HOME" MUNGE_SOCKET="$MUNGE_SOCKET" "$@"; }
jobid=$(cd "$work" && as_user "$bin/qsub" hello.sh)
echo "$jobid"
echo "== qstat"
as_user "$bin/qstat"
seq=${jobid%%.*}
out=$work/hello.o$seq
for _ in $(seq 100); do
  [[ $("$bin/qstat" -f "$jobid" | awk '/job_state/ {print $3}') == C ]] && break
  sleep 0.1
done
echo "== qstat -a after completion"
"$bin/qstat" -a
echo "== $out"
cat "$out"
echo "== exit status: $("$bin/qstat" -f "$jobid" | awk '/exit_status/ {print $3}')"
