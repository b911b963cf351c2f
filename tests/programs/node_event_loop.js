#!/usr/bin/env node
// Node.js under checkpoint/restart (issue 11 item 10): libuv's event loop
// (epoll, eventfd, its signal pipe, the thread pool) serving a TCP echo
// server on loopback to its own client, a child process (/bin/cat) through
// pipes, timers, and a file written through the thread pool. One
// deterministic line per round; a broken restore prints MISMATCH, or the
// round times out after 20 s and says so.
// usage: node node_event_loop.js DIR [rounds=30] [interval_ms=100]
'use strict';
const net = require('net');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

if (process.env.CRTEST_START_LOG) fs.appendFileSync(process.env.CRTEST_START_LOG, 'node_event_loop started\n');
const dir = process.argv[2];
const rounds = Number(process.argv[3] || 30);
const interval = Number(process.argv[4] || 100);
const ROUND_TIMEOUT_MS = 20000;

// Resolves with the next line `stream` delivers.
function lineReader(stream) {
  let buffered = '';
  const waiting = [];
  stream.on('data', (chunk) => {
    buffered += chunk;
    let at;
    while ((at = buffered.indexOf('\n')) >= 0 && waiting.length) {
      const line = buffered.slice(0, at + 1);
      buffered = buffered.slice(at + 1);
      waiting.shift()(line);
    }
  });
  return () => new Promise((resolve) => {
    const at = buffered.indexOf('\n');
    if (at >= 0) {
      const line = buffered.slice(0, at + 1);
      buffered = buffered.slice(at + 1);
      resolve(line);
    } else {
      waiting.push(resolve);
    }
  });
}

// p's value, or null after ROUND_TIMEOUT_MS (the timer goes once p settles: it must not hold the loop open).
function within(p) {
  let timer;
  const timeout = new Promise((r) => { timer = setTimeout(() => r(null), ROUND_TIMEOUT_MS); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const server = net.createServer((sock) => sock.pipe(sock));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => client.on('connect', r));
  client.setEncoding('utf8');
  const nextTcp = lineReader(client);
  const child = spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdout.setEncoding('utf8');
  const nextPiped = lineReader(child.stdout);
  const file = path.join(dir, 'node_rounds.txt');
  for (let i = 0; i < rounds; i++) {
    await sleep(interval);
    const msg = `round ${i}\n`;
    client.write(msg);
    const tcp = await within(nextTcp());
    child.stdin.write(msg);
    const piped = await within(nextPiped());
    await fs.promises.writeFile(file, msg);  // through the thread pool; the same bytes again after a restart
    if (tcp === null || piped === null) {
      console.log(`round ${i}: MISMATCH (no answer within ${ROUND_TIMEOUT_MS / 1000} s)`);
      continue;
    }
    console.log(`round ${i}: ${tcp === msg && piped === msg ? 'tcp, pipe and timer ok' : 'MISMATCH'}`);
  }
  client.end();
  child.stdin.end();
  const code = await new Promise((r) => child.on('exit', r));
  server.close();
  console.log(`child exited with ${code}; file says ${fs.readFileSync(file, 'utf8').trim()}`);
}

main();
