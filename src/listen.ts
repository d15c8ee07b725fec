import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { dirname } from 'node:path';
import { ConflictError, InvalidArgumentError } from './errors.js';

/** Listening for ctnet's servers (serve, cni-daemon), with one-line errors a user can act on. */

function listen(server: Server, args: unknown[], what: string, option: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE'
        ? new ConflictError(`${what} is already in use; stop what listens there or pick another ${option}`)
        : new InvalidArgumentError(`cannot listen on ${what} (${err.code ?? err.message}); pick another ${option}`)));
    (server.listen as (...a: unknown[]) => void)(...args, () => resolve());
  });
}

export const listenTcp = (server: Server, host: string, port: number): Promise<void> =>
  listen(server, [port, host], `${host}:${port}`, '--listen');

/** True when something accepts connections on the socket (a second server must not take it over). */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    // node:net at first use: this module is part of every command's start, a connection is not.
    const { connect } = createRequire(import.meta.url)('node:net') as typeof import('node:net');
    const c = connect(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** A root-only unix socket; a stale socket file (its server gone) is replaced, a live one is refused. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  // The directory itself (as /run/ctnet), not its parents: a recursive mkdir can spin on pseudo
  // file systems such as /proc.
  try {
    mkdirSync(dirname(path), { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new InvalidArgumentError(`cannot make the directory of unix socket ${path} (${code}); pick another --socket`);
  }
  if (await answers(path)) throw new ConflictError(`unix socket ${path} is served by another process; stop it or pick another --socket`);
  // Only a stale socket is replaced: a file that is not one (a typo naming the database) stays.
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st && !st.isSocket()) throw new ConflictError(`${path} exists and is not a unix socket; pick another --socket`);
  rmSync(path, { force: true });
  await listen(server, [path], `unix socket ${path}`, '--socket');
  chmodSync(path, 0o600);
}
