import { stderrStream } from './stdio.js';

/** Progress of a long operation on a terminal: one line redrawn in place; nothing when stderr is not a terminal. */
export type ProgressFn = (done: number, total: number, what: string) => void;

export function terminalProgress(stream: NodeJS.WriteStream = stderrStream()): { report: ProgressFn | undefined; finish: () => void } {
  if (!stream.isTTY) return { report: undefined, finish: () => {} };
  let last = 0;
  let shown = false;
  return {
    report(done, total, what) {
      const now = Date.now();
      if (done < total && now - last < 50) return; // at most 20 redraws a second
      last = now;
      shown = true;
      stream.write(`\r\x1b[K${what} ${done}/${total}`);
    },
    finish() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
