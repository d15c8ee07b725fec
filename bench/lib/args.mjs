/** Command-line options of the bench's experiments. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The number after `name` on the command line (`--rounds 12`), or `fallback` without it. */
export function numberArg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The checkout of ctnet after `name` (`--a DIR`), as an absolute path; without it, `tool` says so and exits 2. */
export function checkoutArg(name, tool) {
  const i = process.argv.indexOf(name);
  if (i < 0 || !process.argv[i + 1]) {
    process.stderr.write(`${tool}: ${name} DIR is needed: a checkout of ctnet with its build\n`);
    process.exit(2);
  }
  return resolve(process.argv[i + 1]);
}

/** The checkout after `--checkout` (`--checkout DIR`), as an absolute path; without it, this one (the bench's own). */
export function checkoutOrThis() {
  const i = process.argv.indexOf('--checkout');
  return resolve(i > 0 ? process.argv[i + 1] : fileURLToPath(new URL('../..', import.meta.url)));
}
