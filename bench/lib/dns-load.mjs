#!/usr/bin/env node
/**
 * A DNS load generator: `dns-load.mjs SERVER SOURCE PREFIX NAMES COUNT CONCURRENCY` sends COUNT A
 * queries for PREFIX0..PREFIX(NAMES-1) from SOURCE to SERVER:53 over UDP, CONCURRENCY at a time,
 * and prints {"qps", "p50_ms", "p99_ms", "answered"} as JSON.
 */
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

const [server, source, prefix, namesText, countText, concurrencyText] = process.argv.slice(2);
const names = Number(namesText);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const sock = createSocket('udp4');
const pending = new Map();
const latencies = [];
let sent = 0;
let answered = 0;
let nextId = 1;

function send() {
  if (sent >= count) return;
  const id = nextId++ & 0xffff || nextId++;
  sent++;
  const name = `${prefix}${Math.floor(Math.random() * names)}`;
  const timer = setTimeout(() => {
    pending.delete(id);
    latencies.push(1000);
    done();
  }, 1000);
  pending.set(id, { t0: process.hrtime.bigint(), timer });
  sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
}

function done() {
  if (latencies.length === count) finish();
  else send();
}

sock.on('message', (msg) => {
  const id = msg.readUInt16BE(0);
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  clearTimeout(p.timer);
  latencies.push(Number(process.hrtime.bigint() - p.t0) / 1e6);
  if (dnsPacket.decode(msg).answers.length) answered++;
  done();
});

let started;
function finish() {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  process.stdout.write(JSON.stringify({ qps: Math.round(count / seconds), p50_ms: at(0.5), p99_ms: at(0.99), answered }) + '\n');
  sock.close();
}

sock.bind(0, source, () => {
  started = process.hrtime.bigint();
  for (let i = 0; i < concurrency; i++) send();
});
