import { childProcess } from './child-process.js';
import { closeNetns, netnsPath, openNetns, withNetns } from './netns.js';

export interface ProbeOutcome {
  reachable: boolean;
  /** connected, refused (reachable: something answered), or the error. */
  detail: string;
}

// A TCP connect from a child forked inside the namespace: a refusal proves the path as well as a connect.
const SCRIPT = `
const [host, port, ms] = process.argv.slice(1);
const s = require('net').connect(Number(port), host);
const done = (r) => { process.stdout.write(r); process.exit(0); };
s.setTimeout(Number(ms), () => done('timeout'));
s.on('connect', () => done('connected'));
s.on('error', (e) => done(e.code || e.message));
`;

export function probeFrom(netns: string, host: string, port: number, timeoutMs = 1500): ProbeOutcome {
  const ns = openNetns(netnsPath(netns));
  try {
    const r = withNetns(ns, () => childProcess().spawnSync(process.execPath, ['-e', SCRIPT, host, String(port), String(timeoutMs)], { encoding: 'utf8', timeout: timeoutMs + 3000 }));
    const detail = (r.stdout || r.stderr || 'no result').trim();
    return { reachable: detail === 'connected' || detail === 'ECONNREFUSED', detail };
  } finally {
    closeNetns(ns);
  }
}
