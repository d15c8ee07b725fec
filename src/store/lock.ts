import { closeSync, openSync } from 'node:fs';
import { LOCK_EX, LOCK_UN, check, libc } from '../kernel/libc.js';

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

  with<T>(fn: () => T): T {
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }
}
