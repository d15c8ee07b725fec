import { createServer, type Server } from 'node:net';
import { listenUnix } from '../listen.js';
import { EnginePool } from './engines.js';
import { handleCni, type CniEnv } from './handler.js';
import { CNI_ERROR } from './spec.js';

/**
 * `ctnet cni-daemon`: serves the CNI plugin's invocations over a unix socket, so the executable a
 * runtime runs is a few lines of Perl (bin/cni/ctnet) instead of a Node start per ADD and DEL.
 * Request: NAME=VALUE records each ended by NUL, an empty record, then the configuration (stdin)
 * until the client closes its side. Reply: the exit code, a newline, then what goes to stdout.
 * Engines are kept between invocations while they come (engines.ts), `keepEnginesMs` after the last.
 */
/** A configuration (with prevResult) is a few KiB; a request past this is not a plugin's. */
export const MAX_REQUEST = 1 << 20;
/** The only variables a request may carry: the CNI protocol's, and ctnet's own (state root, host namespace). */
const ALLOWED_VAR = /^(CNI_|CTNET_)[A-Z0-9_]*$/;

const failure = (code: number, msg: string): string => `1\n${JSON.stringify({ cniVersion: '1.1.0', code, msg })}\n`;

function parseRequest(data: Buffer): { vars: Record<string, string>; stdin: string } | undefined {
  const vars: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const end = data.indexOf(0, at);
    if (end < 0) return undefined;
    if (end === at) return { vars, stdin: data.subarray(end + 1).toString('utf8') };
    const record = data.toString('utf8', at, end);
    const eq = record.indexOf('=');
    if (eq > 0 && ALLOWED_VAR.test(record.slice(0, eq))) vars[record.slice(0, eq)] = record.slice(eq + 1);
    at = end + 1;
  }
}

/**
 * Serves `socketPath` until closed; with `idle`, calls `idle.then` once no invocation has come for
 * `idle.ms` (a daemon the plugin started on its own goes away when the node is quiet).
 */
export async function startCniDaemon(socketPath: string, log: (line: string) => void = () => {}, idle?: { ms: number; then: () => void }, keepEnginesMs?: number): Promise<Server> {
  let timer: NodeJS.Timeout | undefined;
  const engines = new EnginePool(keepEnginesMs);
  const rearm = (): void => {
    if (!idle) return;
    clearTimeout(timer);
    timer = setTimeout(idle.then, idle.ms);
  };
  // Half-open: the client ends its side with the request; the answer goes back after an await.
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    rearm();
    const chunks: Buffer[] = [];
    let size = 0;
    conn.on('data', (d) => {
      size += d.length;
      if (size <= MAX_REQUEST) return void chunks.push(d);
      conn.removeAllListeners('end');
      conn.end(failure(CNI_ERROR.decoding, `the request to ctnet cni-daemon is over ${MAX_REQUEST} bytes`));
    });
    conn.on('error', () => conn.destroy());
    conn.on('end', async () => {
      const req = parseRequest(Buffer.concat(chunks));
      const { stdout, exitCode } = req
        ? await handleCni(req.vars as CniEnv, req.stdin, engines)
        : { stdout: JSON.stringify({ cniVersion: '1.1.0', code: 6, msg: 'the request to ctnet cni-daemon was malformed' }) + '\n', exitCode: 1 };
      if (req) log(`${req.vars.CNI_COMMAND ?? '?'} ${req.vars.CNI_CONTAINERID?.slice(0, 12) ?? ''} -> ${exitCode}`);
      conn.end(`${exitCode}\n${stdout}`);
    });
  });
  await listenUnix(server, socketPath);
  server.on('close', () => {
    clearTimeout(timer);
    engines.close();
  });
  rearm();
  return server;
}
