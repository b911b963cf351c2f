#!/usr/bin/python3
"""Python asyncio under checkpoint/restart (issue 11 item 10): one event loop
(epoll, its self-pipe, signal wakeup fd) serving a TCP echo server on
loopback to its own client, talking to a child process (/bin/cat) through
pipes, with loop.call_later timers. One deterministic line per round; a
broken restore prints a MISMATCH line, or the round waits for its 20 s
timeout and says so.

usage: py_asyncio.py [rounds=30] [interval_ms=100]
"""
import asyncio
import os
import sys

ROUND_TIMEOUT_S = 20


def note_start():
    path = os.environ.get("CRTEST_START_LOG")
    if path:
        with open(path, "a") as log:
            log.write("py_asyncio started\n")


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def main(rounds, interval):
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    child = await asyncio.create_subprocess_exec(
        "/bin/cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    fired = []
    for i in range(rounds):
        loop.call_later(interval / 2, fired.append, i)
        await asyncio.sleep(interval)
        msg = f"round {i}\n".encode()
        try:
            writer.write(msg)
            tcp = await asyncio.wait_for(reader.readline(), ROUND_TIMEOUT_S)
            child.stdin.write(msg)
            piped = await asyncio.wait_for(child.stdout.readline(), ROUND_TIMEOUT_S)
        except asyncio.TimeoutError:
            print(f"round {i}: MISMATCH (no answer within {ROUND_TIMEOUT_S} s)", flush=True)
            continue
        ok = tcp == msg and piped == msg and fired and fired[-1] == i
        print(f"round {i}: {'tcp, pipe and timer ok' if ok else 'MISMATCH'}", flush=True)
    writer.close()
    child.stdin.close()
    status = await child.wait()
    server.close()
    await server.wait_closed()
    print(f"child exited with {status}", flush=True)


if __name__ == "__main__":
    note_start()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    interval = (int(sys.argv[2]) if len(sys.argv) > 2 else 100) / 1000
    asyncio.run(main(rounds, interval))
