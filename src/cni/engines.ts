import { fstatSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { EngineContext, type EngineOptions } from '../engine/context.js';
import { netnsPath } from '../kernel/netns.js';

/** What a kept engine was opened on: its state database's file and its host namespace (by inode). */
interface Identity {
  db: string;
  netns: string | null;
}

/** An engine's options with its state directory resolved (the pool keys engines by it). */
export type PoolOptions = EngineOptions & { root: string };

const fileId = (s: Stats): string => `${s.dev}:${s.ino}`;

/**
 * A state directory's and a host namespace's identity, or undefined if the state is gone. `netns`
 * stats the namespace: by its path for what an invocation names now, by its descriptor for what an
 * engine has open (a state directory or namespace made anew has other inodes).
 */
function identityOf(root: string, netns: (() => Stats) | null): Identity | undefined {
  try {
    return { db: fileId(statSync(join(root, 'ctnet.db'))), netns: netns ? fileId(netns()) : null };
  } catch {
    return undefined;
  }
}

const namedBy = (o: PoolOptions): Identity | undefined => identityOf(o.root, o.hostNetns ? () => statSync(netnsPath(o.hostNetns!)) : null);
const openedBy = (ctx: EngineContext, o: PoolOptions): Identity | undefined => identityOf(o.root, ctx.host.fd === null ? null : () => fstatSync(ctx.host.fd!));

/** Closing is the end of an engine's use: what it cannot close (a namespace gone meanwhile) is the kernel's to free. */
function closeQuietly(ctx: EngineContext): void {
  try {
    ctx.close();
  } catch {
    // nothing left to do with it
  }
}

const same = (a: Identity | undefined, b: Identity | undefined): boolean => a !== undefined && b !== undefined && a.db === b.db && a.netns === b.netns;

/**
 * The cni-daemon's engines, kept from one invocation to the next while invocations come. Opening an
 * engine (the state database, its statements prepared again, the kernel's sockets) and closing it
 * (an nf_tables socket's holder started, the database checkpointed) took ~5 of an ADD's 8-10 ms in
 * the daemon. One per state directory and host namespace; an invocation that comes while it is in use
 * (an overlay's ADD awaits etcd) gets an engine of its own. A kept engine is used again only if its
 * state directory and host namespace are still the ones the invocation names (either made anew,
 * as tests and a wiped /var/lib do, has another inode), and only after an invocation that succeeded
 * with it. Unused for `keepMs` (default 10 s; 0 keeps none), the engines are closed: an idle daemon
 * holds no namespace, as before.
 */
export class EnginePool {
  private readonly idle = new Map<string, EngineContext>();
  /** What each engine was opened on (undefined: not known, so never kept). */
  private readonly opened = new WeakMap<EngineContext, Identity | undefined>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly keepMs = 10_000,
    private readonly size = 4,
  ) {}

  /** An engine for `options`, kept or new; hand it back with `give`. */
  take(options: PoolOptions): EngineContext {
    const key = keyOf(options);
    const kept = this.idle.get(key);
    if (kept) {
      this.idle.delete(key);
      if (same(namedBy(options), this.opened.get(kept))) {
        kept.restartStepCount();
        return kept;
      }
      closeQuietly(kept);
    }
    const ctx = new EngineContext(options);
    this.opened.set(ctx, openedBy(ctx, options));
    return ctx;
  }

  /** Keeps `ctx` for the next invocation if the one that used it succeeded; closes it otherwise. */
  give(ctx: EngineContext, options: PoolOptions, succeeded: boolean): void {
    const key = keyOf(options);
    if (!succeeded || !this.opened.get(ctx) || this.idle.has(key) || this.keepMs === 0) return void closeQuietly(ctx);
    this.idle.set(key, ctx);
    for (const [k, oldest] of this.idle) {
      if (this.idle.size <= this.size) break;
      this.idle.delete(k);
      closeQuietly(oldest);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close(), this.keepMs);
    this.timer.unref();
  }

  /** Closes every kept engine. */
  close(): void {
    clearTimeout(this.timer);
    for (const ctx of this.idle.values()) closeQuietly(ctx);
    this.idle.clear();
  }
}

const keyOf = (o: PoolOptions): string => `${o.root}\0${o.hostNetns ?? ''}\0${o.crashAt ?? ''}`;
