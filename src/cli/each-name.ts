import { CtnetError } from '../errors.js';
import { writeErr } from './stdio.js';

/**
 * Docker's way with several names (`rm a nosuch`, `stop`, `inspect`, `network rm`): each name is
 * acted on by itself, one that fails gets one error line and the others still go ahead. With one
 * name its error is the command's (exit code included); with several, any failure exits 1, as Docker.
 * Errors that are not a user's (internal ones) end the command at once.
 */
export async function eachName<T>(names: readonly string[], act: (name: string) => T | Promise<T>): Promise<T[]> {
  if (names.length === 1) return [await act(names[0])];
  const done: T[] = [];
  for (const name of names) {
    try {
      done.push(await act(name));
    } catch (err) {
      if (!(err instanceof CtnetError)) throw err;
      writeErr(`ctnet: error: ${err.message}\n`);
      process.exitCode = 1;
    }
  }
  return done;
}
