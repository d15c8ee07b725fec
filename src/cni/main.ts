import { readFileSync } from 'node:fs';
import { handleCni } from './handler.js';

/** The CNI executable: this process's environment and stdin, handled in-process. */
let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {
  // no stdin
}
const { stdout, exitCode } = await handleCni(process.env, stdin);
process.stdout.write(stdout);
process.exitCode = exitCode;
