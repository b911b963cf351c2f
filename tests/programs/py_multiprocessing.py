#!/usr/bin/python3
"""Python multiprocessing under checkpoint/restart (issue 11 item 4): its
semaphores are sem_open'ed in /dev/shm, mapped shared and unlinked at once,
and inherited by fork; mp.Value lives in an unlinked /dev/shm file kept open.
Deterministic output, one progress line per step; a broken restore of the
sharing prints a MISMATCH line (or times out waiting, which prints one too).

usage: py_multiprocessing.py pool|queue|lock|executor [rounds=30] [interval_ms=30]
"""
import concurrent.futures
import multiprocessing as mp
import os
import sys
import time

WAIT_S = 60  # a turn that never comes: the processes no longer share


def note_start():
    path = os.environ.get("CRTEST_START_LOG")
    if path:
        with open(path, "a") as log:
            log.write("py_multiprocessing started\n")


def say(*words):
    print(*words, flush=True)


def square(x):
    time.sleep(0.002)
    return x * x


def run_pool(rounds, interval):
    with mp.Pool(2) as pool:
        for i in range(rounds):
            say("pool round", i, "sum", sum(pool.map(square, range(i, i + 8))))
            time.sleep(interval)


def produce(queue, rounds, interval):
    for i in range(rounds):
        queue.put(("item", i, i * 3))
        time.sleep(interval)
    queue.put(None)


def run_queue(rounds, interval):
    queue = mp.Queue(maxsize=4)
    producer = mp.Process(target=produce, args=(queue, rounds, interval))
    producer.start()
    expect = 0
    while True:
        item = queue.get(timeout=WAIT_S)
        if item is None:
            break
        if item != ("item", expect, expect * 3):
            say("MISMATCH: queue gave", item, "expected item", expect)
            sys.exit(1)
        say("queue got", item[1], item[2])
        expect += 1
    producer.join()
    say("producer exit", producer.exitcode)


def ping_pong(me, turns, counter, rounds, interval):
    """Two processes take turns; each checks the shared counter at its turn."""
    mine, theirs = turns[me], turns[1 - me]
    for r in range(rounds):
        if not mine.acquire(timeout=WAIT_S):
            say("MISMATCH: process", me, "round", r, "never got its turn")
            os._exit(1)
        with counter.get_lock():
            want = 2 * r + me
            if counter.value != want:
                say("MISMATCH: process", me, "saw counter", counter.value, "expected", want)
                os._exit(1)
            counter.value += 1
        say("lock round", r, "process", me, "counter", want)
        time.sleep(interval)
        theirs.release()


def run_lock(rounds, interval):
    turns = (mp.Semaphore(1), mp.Semaphore(0))
    counter = mp.Value("i", 0)
    child = mp.Process(target=ping_pong, args=(1, turns, counter, rounds, interval))
    child.start()
    ping_pong(0, turns, counter, rounds, interval)
    child.join()
    say("final counter", counter.value, "child exit", child.exitcode)


def run_executor(rounds, interval):
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        for i in range(rounds):
            say("executor round", i, "results", list(ex.map(square, range(i, i + 6))))
            time.sleep(interval)


def main():
    note_start()
    mode = sys.argv[1] if len(sys.argv) > 1 else "pool"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    interval = (int(sys.argv[3]) if len(sys.argv) > 3 else 30) / 1000.0
    modes = {"pool": run_pool, "queue": run_queue, "lock": run_lock, "executor": run_executor}
    if mode not in modes:
        sys.stderr.write("py_multiprocessing: unknown mode '%s' (pool, queue, lock, executor)\n" % mode)
        sys.exit(2)
    mp.set_start_method("fork")
    modes[mode](rounds, interval)
    say("done", mode)


if __name__ == "__main__":
    main()
