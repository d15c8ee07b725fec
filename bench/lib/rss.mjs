// Runs a command once and prints its peak resident set size in KiB (getrusage(RUSAGE_CHILDREN).ru_maxrss).
import { spawnSync } from 'node:child_process';
import koffi from 'koffi';

const [cmd, ...args] = process.argv.slice(2);
const r = spawnSync(cmd, args, { stdio: 'ignore' });
const getrusage = koffi.load('libc.so.6').func('int getrusage(int who, _Out_ uint8_t *usage)');
const buf = Buffer.alloc(144);
getrusage(-1, buf);
// struct rusage: two struct timeval (16 bytes each), then long ru_maxrss.
process.stdout.write(`${Number(buf.readBigInt64LE(32))} ${r.status}\n`);
