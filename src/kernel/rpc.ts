import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { childProcess } from './child-process.js';
import { createRequire } from 'node:module';
import { closeOnExecAll } from './spawn.js';
import { withNetns, type NetnsHandle } from './netns.js';

/** What a call answered: its result, or the error as code and message (rebuilt by the caller). */
export type RpcReply = { id: number; result?: unknown; error?: { code?: string; message: string } };

/** Calls answered as JSON lines: `{id, method, args}` out, `{id, result | error}` back, in any order. */
export interface RpcCaller {
  /** `timeoutMs`: answered with an error if no answer came by then (where the caller supports one). */
  call(method: string, args: readonly unknown[], timeoutMs?: number): Promise<RpcReply>;
  close(): void;
}

// node:readline and node:net are loaded here, by the overlay's commands alone, not at every command's start.
const load = <T>(id: string): T => createRequire(import.meta.url)(id) as T;

/** The protocol over one pair of streams; `ended` makes every call waiting (and every later one) answer `why`. */
class RpcLines {
  private readonly waiting = new Map<number, (reply: RpcReply) => void>();
  private next = 1;
  private endedWith: string | null = null;

  constructor(input: NodeJS.ReadableStream, private readonly output: NodeJS.WritableStream) {
    load<typeof import('node:readline')>('node:readline').createInterface({ input }).on('line', (line) => {
      let reply: RpcReply;
      try {
        reply = JSON.parse(line) as RpcReply;
      } catch {
        // Thrown here it would end the command with a stack trace: every call answers this line instead.
        return this.ended(`the other end sent a line that is no answer: ${line.slice(0, 80)}`);
      }
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  ended(why: string): void {
    this.endedWith ??= why;
    for (const [id, answer] of this.waiting) answer({ id, error: { message: this.endedWith } });
    this.waiting.clear();
  }

  /** `timeoutMs`: the call is answered with an error if no answer came by then. */
  call(method: string, args: readonly unknown[], timeoutMs?: number): Promise<RpcReply> {
    if (this.endedWith) return Promise.resolve({ id: 0, error: { message: this.endedWith } });
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.waiting.delete(id);
        resolve({ id, error: { message: `no answer to ${method} within ${timeoutMs / 1000} s` } });
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.output.write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }
}

/**
 * A helper process started inside a network namespace that answers calls as JSON lines on its
 * standard streams. ctnet talks to the cluster's etcd this way when it acts on a host namespace it
 * is not in (CTNET_HOST_NETNS) and the host's cluster agent does not answer: Node opens its sockets
 * on a later tick, so only a process that lives in that namespace connects from it.
 */
export class RpcChild implements RpcCaller {
  private readonly child: ChildProcess;
  private readonly lines: RpcLines;

  constructor(netns: NetnsHandle, argv: readonly string[]) {
    closeOnExecAll();
    // Its stderr (library warnings) is kept, not shown: a command prints one line per error.
    this.child = withNetns(netns, () => childProcess().spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }));
    let stderr = '';
    this.child.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    this.lines = new RpcLines(this.child.stdout as NodeJS.ReadableStream, this.child.stdin as NodeJS.WritableStream);
    this.child.on('exit', (code, signal) => {
      const last = stderr.trim().split('\n').pop();
      this.lines.ended(`the helper process ended (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}`);
    });
  }

  call(method: string, args: readonly unknown[]): Promise<RpcReply> {
    return this.lines.call(method, args);
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}

/**
 * A process that answers calls as JSON lines on a unix socket (the cluster agent); undefined when
 * none listens there. A call not answered within `timeoutMs` (unless it gives its own) fails: a
 * process stopped or stuck.
 */
export function connectRpcSocket(path: string, timeoutMs: number): Promise<RpcCaller | undefined> {
  return new Promise((resolve) => {
    const socket: Socket = load<typeof import('node:net')>('node:net').connect(path);
    socket.once('error', () => resolve(undefined));
    socket.once('connect', () => {
      const lines = new RpcLines(socket, socket);
      socket.removeAllListeners('error');
      socket.on('error', (err) => lines.ended(`the cluster agent's socket failed: ${err.message}`));
      socket.on('close', () => lines.ended('the cluster agent closed its socket'));
      resolve({ call: (method, args, ms = timeoutMs) => lines.call(method, args, ms), close: () => socket.destroy() });
    });
  });
}
