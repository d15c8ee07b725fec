import { InjectedFaultError } from '../errors.js';
import { renderCommands, renderOp, type Op, type RenderContext, type Step } from './ops.js';

/** Applies one operation to the kernel; may return an undo computed at apply time (e.g. a sysctl's old value). */
export interface Applier {
  apply(op: Op): Op | void;
}

export interface ExecuteOptions {
  /** Called with each applied operation rendered as a shell command. */
  explain?: (line: string) => void;
  render: RenderContext;
  /** 1-based step number at which to fail on purpose (tests prove rollback with it). */
  faultAt?: number;
  /** Steps of the same plan applied before these (a plan applied in parts): the numbering goes on from there. */
  stepsBefore?: number;
  /** Called before each operation (the engine counts them to die by SIGKILL at a chosen one: crash tests). */
  beforeStep?: () => void;
}

/** An operation's commands to `explain`, one line each (what --explain and --dry-run print). */
export function explainOp(opts: Pick<ExecuteOptions, 'explain' | 'render'>, op: Op): void {
  if (opts.explain) for (const line of renderCommands(op, opts.render)) opts.explain(line);
}

/**
 * Applies steps in order. On the first failure, applies the undo of every applied step in reverse
 * order (best effort) and rethrows the original error, so nothing is left half-done.
 */
export function execute(steps: readonly Step[], applier: Applier, opts: ExecuteOptions): void {
  const undo: Op[] = [];
  let index = opts.stepsBefore ?? 0;
  try {
    for (const s of steps) {
      index++;
      if (opts.faultAt === index) throw new InjectedFaultError(index, renderOp(s.do, opts.render));
      opts.beforeStep?.();
      const dynamicUndo = applier.apply(s.do);
      explainOp(opts, s.do);
      const u = dynamicUndo ?? s.undo;
      if (u) undo.push(u);
    }
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        applier.apply(u);
      } catch {
        // Keep undoing the rest; `ctnet gc` removes what a failed undo leaves.
      }
    }
    throw err;
  }
}

/** Applies every operation even when some fail ("already gone" is success); returns the errors. */
export function executeBestEffort(ops: readonly Op[], applier: Applier, opts: Omit<ExecuteOptions, 'faultAt'>): Error[] {
  const errors: Error[] = [];
  for (const op of ops) {
    opts.beforeStep?.();
    try {
      applier.apply(op);
      explainOp(opts, op);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return errors;
}
