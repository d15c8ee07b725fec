import { constants, openSync } from 'node:fs';
import { check, libc, setCloexec } from './libc.js';

/** A pseudo-terminal for `run -t`: the container gets the slave as its terminal, ctnet relays the master. */
export interface Pty {
  master: number;
  slave: number;
}

const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCSWINSZ = 0x5414;

export function openPty(): Pty {
  const master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY);
  setCloexec(master);
  const n = Buffer.alloc(4);
  check(libc().ioctl(master, TIOCSPTLCK, n), 'unlocking a pseudo-terminal');
  check(libc().ioctl(master, TIOCGPTN, n), 'numbering a pseudo-terminal');
  const slave = openSync(`/dev/pts/${n.readUInt32LE(0)}`, constants.O_RDWR | constants.O_NOCTTY);
  return { master, slave };
}

export function setWindowSize(fd: number, columns: number, rows: number): void {
  const size = Buffer.alloc(8); // struct winsize { rows, cols, xpixel, ypixel }
  size.writeUInt16LE(rows, 0);
  size.writeUInt16LE(columns, 2);
  libc().ioctl(fd, TIOCSWINSZ, size);
}
