import { join } from 'node:path';
import { DEFAULT_ROOT } from '../names.js';
import { InjectedFaultError, InvalidArgumentError, PermissionError } from '../errors.js';
import { CURRENT_NETNS, closeNetns, netnsPath, openNetns, type NetnsHandle } from '../kernel/netns.js';
import { requireLibnftables } from '../kernel/nft.js';
import { KernelSession } from '../kernel/session.js';
import { KernelApplier } from './applier.js';
import { firewallScript } from './firewall-state.js';
import { execute, executeBestEffort, explainOp } from '../plan/executor.js';
import { type Op, type RenderContext, type Step } from '../plan/ops.js';
import { FIREWALL_LAYOUT } from '../firewall/ruleset.js';
import { HostLock } from '../store/lock.js';
import { Store, type StateStore } from '../store/store.js';

export interface EngineOptions {
  /** State directory (CTNET_ROOT); default /var/lib/ctnet. */
  root?: string;
  /** Name of the network namespace that plays the host (CTNET_HOST_NETNS); default: where ctnet runs. */
  hostNetns?: string | null;
  /** Receives each kernel change as the equivalent shell command, in order. */
  explain?: (line: string) => void;
  /** Print the plan through `explain` and change nothing. */
  dryRun?: boolean;
  /** Fail on purpose at this 1-based step of a plan (rollback tests; CTNET_FAULT_AT). */
  faultAt?: number;
  /** Die by SIGKILL at this 1-based step of the command: kernel operations and crash points counted together (crash tests; CTNET_CRASH_AT). */
  crashAt?: number;
  /** Told about a failure that did not stop the command (a leftover a later command or gc removes). */
  warn?: (err: Error) => void;
  /** Told when a request is carried out differently than it was given (published ports dropped with --network host). */
  notice?: (text: string) => void;
  /** Told how far long operations (gc over many containers) have got. */
  progress?: (done: number, total: number, what: string) => void;
}

/** A step number for faultAt or crashAt from an environment variable (CTNET_FAULT_AT, CTNET_CRASH_AT). */
export function stepFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name}=${v} is not a step number`);
  return Number(v);
}

/** The state's record of the layout its tables were last rendered in (firewall/ruleset.ts FIREWALL_LAYOUT). */
const FIREWALL_LAYOUT_KEY = 'firewall.layout';

/** Thrown inside a transaction to roll it back after a dry run printed its plan. */
class DryRunDone extends Error {}

/** What every use case needs: state, the host lock, the kernel of the host namespace, and how to apply plans. */
export class EngineContext {
  readonly store: StateStore;
  readonly lock: HostLock;
  readonly host: NetnsHandle;
  readonly render: RenderContext;
  private session: KernelSession | undefined;
  private applier: KernelApplier | undefined;
  private steps = 0;
  private firewallChecked = false;

  constructor(readonly options: EngineOptions) {
    // The state directory is root's, and every command reads it: say why instead of failing to open it.
    if (process.getuid?.() !== 0) throw new PermissionError('ctnet manages network namespaces and needs root; run it with sudo');
    const root = options.root ?? DEFAULT_ROOT;
    this.store = new Store(root);
    this.lock = new HostLock(join(root, 'ctnet.lock'));
    this.host = options.hostNetns ? openNetns(netnsPath(options.hostNetns)) : CURRENT_NETNS;
    this.render = { hostNetns: options.hostNetns ?? null };
  }

  get root(): string {
    return this.store.root;
  }

  get dryRun(): boolean {
    return this.options.dryRun === true;
  }

  kernel(): KernelSession {
    this.session ??= new KernelSession(this.host);
    return this.session;
  }

  private applierOf(): KernelApplier {
    this.applier ??= new KernelApplier(this.kernel());
    return this.applier;
  }

  /**
   * Checks, before anything changes, what commands that write nftables scripts (networks, the
   * firewall's repair) need beyond root: libnftables. A container's own elements change through
   * nf_tables' netlink (kernel/nft.ts), so container commands (run, rm, stop, exec, connect, CNI's
   * ADD and DEL) skip its ~5 ms load.
   */
  requireChangeRights(): void {
    requireLibnftables();
  }

  /** Runs a changing use case under the host lock. */
  locked<T>(fn: () => T): T {
    return this.lock.with(() => {
      this.renewOlderFirewall();
      return fn();
    });
  }

  /**
   * Tables an older ctnet wrote lack sets this one adds a container's elements to (an attach would
   * fail on them): rendered anew from state, once, before the first change that could need them.
   */
  private renewOlderFirewall(): void {
    if (this.firewallChecked || this.dryRun) return;
    this.firewallChecked = true;
    if (this.store.getMeta(FIREWALL_LAYOUT_KEY) === String(FIREWALL_LAYOUT)) return;
    const errors = this.store.listNetworks().length ? this.applyBestEffort([{ op: 'nft', script: firewallScript(this.store) }]) : [];
    for (const err of errors) this.warn(err);
    if (!errors.length) this.store.setMeta(FIREWALL_LAYOUT_KEY, String(FIREWALL_LAYOUT));
  }

  /**
   * Runs `fn` in a database transaction; the steps it returns are applied to the kernel inside the
   * same transaction, so a kernel failure (after its own rollback) also rolls the state back. With
   * --dry-run the steps are printed and the transaction is rolled back.
   */
  transact<T>(fn: () => { steps: Step[]; result: T }): T {
    let out: T | undefined;
    try {
      this.store.transaction(() => {
        if (this.dryRun) this.store.deferForeignKeys();
        const { steps, result } = fn();
        out = result;
        this.apply(steps);
        if (this.dryRun) throw new DryRunDone();
      });
    } catch (err) {
      if (!(err instanceof DryRunDone)) throw err;
    }
    return out as T;
  }

  /**
   * Applies steps with rollback (or only prints them with --dry-run). A plan applied in parts says
   * how many of its steps came before this part: an injected fault's number is its step in the plan.
   */
  apply(steps: readonly Step[], stepsBefore = 0): void {
    if (this.dryRun) {
      for (const s of steps) explainOp({ explain: this.options.explain, render: this.render }, s.do);
      return;
    }
    execute(steps, this.applierOf(), { explain: this.options.explain, render: this.render, faultAt: this.options.faultAt, stepsBefore, beforeStep: () => this.crashPoint() });
  }

  /**
   * A point where a kill leaves something for the next command to finish: every kernel operation is
   * one, and so are the state changes between them. With CTNET_CRASH_AT=N the process dies by SIGKILL
   * at the Nth, as `kill -9` would leave it.
   */
  crashPoint(): void {
    if (this.options.crashAt === ++this.steps) process.kill(process.pid, 'SIGKILL');
  }

  /** For an engine kept for another command (the cni-daemon's): CTNET_CRASH_AT counts that command's steps. */
  restartStepCount(): void {
    this.steps = 0;
  }

  /** The injected fault for the step after a plan's kernel steps (starting the container's process). */
  faultAfter(steps: readonly Step[], what: string): void {
    if (this.options.faultAt === steps.length + 1) throw new InjectedFaultError(steps.length + 1, what);
  }

  /** Applies removal operations, going on past failures; returns them. */
  applyBestEffort(ops: readonly Op[]): Error[] {
    if (this.dryRun) {
      for (const op of ops) explainOp({ explain: this.options.explain, render: this.render }, op);
      return [];
    }
    return executeBestEffort(ops, this.applierOf(), { explain: this.options.explain, render: this.render, beforeStep: () => this.crashPoint() });
  }

  warn(err: Error): void {
    this.options.warn?.(err);
  }

  /** Reports what a teardown could not remove (one warning each; `gc` retries it). */
  warnAll(errors: readonly Error[]): void {
    for (const err of errors) this.warn(err);
  }

  explain(line: string): void {
    this.options.explain?.(line);
  }

  notice(text: string): void {
    this.options.notice?.(text);
  }

  close(): void {
    this.session?.close();
    this.store.close();
    closeNetns(this.host);
  }
}
