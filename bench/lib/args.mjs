/** Command-line options of the bench's experiments. */

/** The number after `name` on the command line (`--rounds 12`), or `fallback` without it. */
export function numberArg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
