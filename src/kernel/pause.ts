// Made at the first wait rather than when the module loads: a V8 startup snapshot's builder has no
// SharedArrayBuffer (bench/experiments/startup-snapshot.mjs builds one of the CLI).
let cell: Int32Array | undefined;

/** Blocks this thread for `ms` (a retry's wait in code that stays synchronous). */
export function pauseSync(ms: number): void {
  Atomics.wait((cell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, ms);
}
