#!/usr/bin/env python3
"""py_state.py [ROUNDS=40] [DELAY=0.03]

Python test subject for the checkpoint/restart engine: interpreter state that
only survives if the whole heap does, i.e. dicts and lists growing every round,
live generators suspended mid-iteration, a seeded random.Random, a closure, and
a class instance. Prints one line per round; deterministic for given
arguments. Lines with pids start with "ids: ". Exits 5.
"""
import collections
import hashlib
import os
import random
import sys
import time


def fibonacci():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def primes():
    found = []
    n = 2
    while True:
        if all(n % p for p in found if p * p <= n):
            found.append(n)
            yield n
        n += 1


def make_accumulator():
    state = {"sum": 0}

    def add(x):
        state["sum"] += x
        return state["sum"]

    return add


class Ledger:
    def __init__(self):
        self.entries = collections.OrderedDict()
        self.digest = hashlib.sha256()

    def record(self, key, value):
        self.entries[key] = self.entries.get(key, 0) + value
        self.digest.update(f"{key}={value};".encode())


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.03
    print(f"py_state: {rounds} rounds", flush=True)
    print(f"ids: python pid={os.getpid()}", flush=True)
    rng = random.Random(20240611)
    fib, prime = fibonacci(), primes()
    add = make_accumulator()
    ledger = Ledger()
    words = {}
    for r in range(1, rounds + 1):
        f, p = next(fib), next(prime)
        x = rng.randint(1, 10**6)
        word = "".join(rng.choice("abcdefgh") for _ in range(3))
        words[word] = words.get(word, 0) + 1
        ledger.record(word, x % 1000)
        acc = add(x)
        print(f"round {r}: fib={f} prime={p} rand={x} word={word} acc={acc} "
              f"distinct={len(words)} digest={ledger.digest.hexdigest()[:16]}", flush=True)
        time.sleep(delay)
    top = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    print(f"top words: {top}", flush=True)
    print(f"ledger size={len(ledger.entries)} final digest={ledger.digest.hexdigest()}", flush=True)
    print(f"ids: python pid at end={os.getpid()}", flush=True)
    print("py_state: done", flush=True)
    return 5


if __name__ == "__main__":
    sys.exit(main())
