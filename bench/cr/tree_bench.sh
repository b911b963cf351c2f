#!/bin/bash
# tree_bench.sh [BUILD_DIR] -- checkpoint and restart times for a process tree
# and for a multi-threaded process, printed as a markdown table.
#
# Subjects (tests/programs/mt/bench_tree.c, run under cr_run):
#   - a tree of N processes (root + N-1 children, talking through a pipe),
#   - one process with N threads (main + N-1 workers),
# each process or thread with MIB MiB of heap touched. Per run:
#   checkpoint   wall time of `cr_checkpoint --file IMG ID` (the job keeps running)
#   kill         then `cr_checkpoint --kill --file IMG2 ID` (not timed) stops it
#   restart      wall time from starting `cr_restart IMG2` until the root prints
#                a new "tick" line, which it only does once every process or
#                thread of the subject has reported in after the restart
# The median of RUNS runs is reported (min and max alongside).
#
# Environment: N (16), MIB (4), RUNS (5), TMPDIR (/tmp). Images are written to
# a fresh directory under TMPDIR and removed at the end.
set -euo pipefail

BUILD_DIR=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BIN=$BUILD_DIR/bin
SUBJECT=$BIN/programs/mt/bench_tree
N=${N:-16}
MIB=${MIB:-4}
RUNS=${RUNS:-5}

for f in "$BIN/cr_run" "$BIN/cr_checkpoint" "$BIN/cr_restart" "$SUBJECT"; do
  if [ ! -x "$f" ]; then
    echo "tree_bench.sh: $f not built; build the targets cr_run cr_checkpoint cr_restart cr_info crmt_bench_tree in $BUILD_DIR" >&2
    exit 2
  fi
done
PYTHON=$(command -v /usr/bin/python3 || command -v python3)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tree_bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" - "$BIN" "$SUBJECT" "$N" "$MIB" "$RUNS" "$WORK" <<'PY'
import os, signal, statistics, subprocess, sys, time

bin_dir, subject, n, mib, runs, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
TIMEOUT = 60.0

def lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0

def wait_lines(path, count, proc, what):
    deadline = time.monotonic() + TIMEOUT
    while lines(path) < count:
        if proc.poll() is not None:
            raise SystemExit(f"tree_bench: {what} ended ({proc.returncode}) before printing {count} lines")
        if time.monotonic() > deadline:
            raise SystemExit(f"tree_bench: {what}: no progress within {TIMEOUT} s")
        time.sleep(0.0002)

def run_tool(args):
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"tree_bench: {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")

def one_run(mode, index):
    d = os.path.join(work, f"{mode}.{index}")
    os.mkdir(d)
    out = os.path.join(d, "out.txt")
    with open(out, "wb") as o:
        job = subprocess.Popen([f"{bin_dir}/cr_run", subject, mode, str(n), str(mib)], cwd=d,
                               stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_lines(out, 20, job, "cr_run")
        img = os.path.join(d, "img")
        t0 = time.monotonic()
        run_tool([f"{bin_dir}/cr_checkpoint", "--file", img, str(job.pid)])
        checkpoint = time.monotonic() - t0
        size = os.path.getsize(img)
        img2 = os.path.join(d, "img2")
        run_tool([f"{bin_dir}/cr_checkpoint", "--kill", "--file", img2, str(job.pid)])
        job.wait(timeout=TIMEOUT)
        base = lines(out)
        t1 = time.monotonic()
        restarted = subprocess.Popen([f"{bin_dir}/cr_restart", img2], cwd="/", stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        try:
            wait_lines(out, base + 1, restarted, "cr_restart")
            restart = time.monotonic() - t1
        finally:
            # The restored tree lives in its own pid namespace under cr_restart:
            # killing it with --kill checkpoints once more, so kill the namespace's
            # processes directly (all of cr_restart's descendants).
            kill_tree(restarted.pid)
            restarted.wait(timeout=TIMEOUT)
        return checkpoint, restart, size
    finally:
        if job.poll() is None:
            kill_tree(job.pid)
            job.wait(timeout=TIMEOUT)
        for name in ("img", "img2"):
            try:
                os.unlink(os.path.join(d, name))
            except FileNotFoundError:
                pass

def kill_tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError):
                pass
    order, todo = [], [root]
    while todo:
        p = todo.pop()
        order.append(p)
        todo.extend(children.get(p, []))
    for p in order:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass

def ms(x):
    return f"{x * 1000:.0f}"

rows = []
for mode, label in (("procs", f"{n} processes x {mib} MiB"), ("threads", f"1 process, {n} threads x {mib} MiB")):
    results = [one_run(mode, i) for i in range(runs)]
    cks = [r[0] for r in results]
    rss = [r[1] for r in results]
    size = statistics.median([r[2] for r in results])
    rows.append((label, cks, rss, size))

print(f"| subject ({runs} runs) | image | checkpoint median (min-max) | restart to running median (min-max) |")
print("|---|---|---|---|")
for label, cks, rss, size in rows:
    print(f"| {label} | {size / 2**20:.1f} MiB | {ms(statistics.median(cks))} ms ({ms(min(cks))}-{ms(max(cks))}) "
          f"| {ms(statistics.median(rss))} ms ({ms(min(rss))}-{ms(max(rss))}) |")
PY
