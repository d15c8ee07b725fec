import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { ConflictError } from './errors.js';

/** Listening for ctnet's servers (serve, cni-daemon), with one-line errors a user can act on. */

function listen(server: Server, args: unknown[], what: string, fix: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConflictError(`${what} is already in use; ${fix}`) : err));
    (server.listen as (...a: unknown[]) => void)(...args, () => resolve());
  });
}

export const listenTcp = (server: Server, host: string, port: number): Promise<void> =>
  listen(server, [port, host], `${host}:${port}`, 'stop what listens there or pick another --listen');

/** True when something accepts connections on the socket (a second server must not take it over). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** A root-only unix socket; a stale socket file (its server gone) is replaced, a live one is refused. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (await answers(path)) throw new ConflictError(`unix socket ${path} is served by another process; stop it or pick another --socket`);
  rmSync(path, { force: true });
  await listen(server, [path], `unix socket ${path}`, 'pick another --socket');
  chmodSync(path, 0o600);
}
