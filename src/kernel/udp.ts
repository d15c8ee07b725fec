import { check, libc, SOL_SOCKET } from './libc.js';
import { AF_INET, SOCK_CLOEXEC, sockaddrIn } from './inet.js';

const SOCK_DGRAM = 2;
const SO_REUSEADDR = 2;

/**
 * A UDP socket bound to an IPv4 address and port (SO_REUSEADDR, as dgram's `reuseAddr`), as a
 * descriptor. Node's dgram adopts one (`bind({ fd })`) but gives no descriptor of its own sockets,
 * and a descriptor is what lets another thread read the same socket (a copy: `duplicateFd`).
 */
export function boundUdp4Socket(address: string, port: number): number {
  const lib = libc();
  const fd = check(lib.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), `a UDP socket for ${address}:${port}`);
  try {
    const on = Buffer.alloc(4);
    on.writeInt32LE(1);
    check(lib.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, on, 4), `SO_REUSEADDR on ${address}:${port}`);
    const sin = sockaddrIn(address, port);
    check(lib.bind(fd, sin, sin.length), `binding ${address}:${port}`);
    return fd;
  } catch (err) {
    lib.close(fd);
    throw err;
  }
}

