const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (a retry's wait in code that stays synchronous). */
export function pauseSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
