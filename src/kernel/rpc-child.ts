import type { ChildProcess } from 'node:child_process';
import { childProcess } from './child-process.js';
import { createRequire } from 'node:module';
import { closeOnExecAll } from './spawn.js';
import { withNetns, type NetnsHandle } from './netns.js';

/** What a call answered: its result, or the error as code and message (rebuilt by the caller). */
export type RpcReply = { id: number; result?: unknown; error?: { code?: string; message: string } };

/**
 * A helper process started inside a network namespace that answers calls as JSON lines on its
 * standard streams. ctnet talks to the cluster's etcd this way when it acts on a host namespace it
 * is not in (CTNET_HOST_NETNS): Node opens its sockets on a later tick, so only a process that
 * lives in that namespace connects from it.
 */
export class RpcChild {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: RpcReply) => void>();
  private next = 1;
  private exited: string | null = null;

  constructor(netns: NetnsHandle, argv: readonly string[]) {
    closeOnExecAll();
    // Its stderr (library warnings) is kept, not shown: a command prints one line per error.
    this.child = withNetns(netns, () => childProcess().spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }));
    let stderr = '';
    this.child.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    // node:readline is loaded here, by the overlay's commands alone, not at every command's start.
    const { createInterface } = createRequire(import.meta.url)('node:readline') as typeof import('node:readline');
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const reply = JSON.parse(line) as RpcReply;
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
    this.child.on('exit', (code, signal) => {
      const last = stderr.trim().split('\n').pop();
      this.exited = `the helper process ended (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}`;
      for (const [id, answer] of this.waiting) answer({ id, error: { message: this.exited } });
      this.waiting.clear();
    });
  }

  call(method: string, args: readonly unknown[]): Promise<RpcReply> {
    if (this.exited) return Promise.resolve({ id: 0, error: { message: this.exited } });
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      (this.child.stdin as NodeJS.WritableStream).write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}
