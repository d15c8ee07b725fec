import { Engine } from '../engine/engine.js';
import { engineOptions } from './env.js';
import { oneLine } from '../errors.js';
import { writeErr } from './stdio.js';

/** Runs `fn` with an engine configured from the environment and flags, and always closes it. */
export async function withEngine<T>(
  flags: { explain?: boolean; dryRun?: boolean; progress?: (done: number, total: number, what: string) => void },
  fn: (engine: Engine) => T | Promise<T>,
): Promise<T> {
  const engine = new Engine({ ...engineOptions(flags), progress: flags.progress, warn: (e) => warn([e]), notice: (text) => writeErr(`ctnet: warning: ${oneLine(text)}\n`) });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

export function warn(errors: readonly Error[]): void {
  for (const e of errors) writeErr(`ctnet: warning: ${oneLine(e.message)}; run ctnet gc to retry\n`);
}
