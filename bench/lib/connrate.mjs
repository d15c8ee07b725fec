// connrate HOST PORT SECONDS CONCURRENCY: new TCP connections per second, each one HTTP request and
// close, bounded in time and count. Prints one JSON line.
import { request } from 'node:http';

const [host, portText, secondsText, concText = '8'] = process.argv.slice(2);
const port = Number(portText);
const deadline = Date.now() + Number(secondsText) * 1000;
const MAX = 2_000_000;
let done = 0;
let failed = 0;

function one() {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => { done++; resolve(); });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { failed++; resolve(); });
    req.end();
  });
}

async function worker() {
  while (Date.now() < deadline && done + failed < MAX) await one();
}

const t0 = Date.now();
await Promise.all(Array.from({ length: Number(concText) }, worker));
process.stdout.write(JSON.stringify({ per_second: done / ((Date.now() - t0) / 1000), done, failed }) + '\n');
