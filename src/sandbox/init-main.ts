import { writeSync } from 'node:fs';
import { InitError, READY_FD, hasReadyPipe, readSpec, runInit } from './init.js';

/** Entry of ctnet-init (bundled alone, so the container's first process loads little): argv[2] is the spec's file. */
try {
  runInit(readSpec(process.argv[2] ?? ''));
} catch (err) {
  const e = err instanceof InitError ? err : new InitError(`container setup failed: ${(err as Error).message}`);
  const line = `ctnet: error: ${e.message}\n`;
  writeSync(2, line);
  if (hasReadyPipe()) writeSync(READY_FD, line); // `run -d` reports it
  process.exit(e.exitCode);
}
