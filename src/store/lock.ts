import { closeSync, openSync } from 'node:fs';
import { LOCK_EX, LOCK_NB, LOCK_UN, check, libc } from '../kernel/libc.js';

/**
 * An exclusive flock on the state directory. Every changing command holds it while it allocates
 * in the database and changes the kernel, so concurrent commands serialise instead of racing
 * (two `ctnet run` never create the default bridge twice or replace the nftables table under each other).
 */
export class HostLock {
  private fd: number | undefined;
  private depth = 0;

  constructor(private readonly path: string) {}

  acquire(): void {
    if (this.depth++ > 0) return;
    this.fd = openSync(this.path, 'a', 0o600);
    check(libc().flock(this.fd, LOCK_EX), `locking ${this.path}`);
  }

  release(): void {
    if (--this.depth > 0 || this.fd === undefined) return;
    libc().flock(this.fd, LOCK_UN);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Runs `fn` under the lock if it is free now; otherwise does nothing and returns false. */
  tryWith(fn: () => void): boolean {
    if (this.depth === 0) {
      const fd = openSync(this.path, 'a', 0o600);
      if (libc().flock(fd, LOCK_EX | LOCK_NB) !== 0) {
        closeSync(fd);
        return false;
      }
      this.fd = fd;
    }
    this.depth++;
    try {
      fn();
      return true;
    } finally {
      this.release();
    }
  }

  with<T>(fn: () => T): T {
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }
}
