import { toInt } from '../addr/ipv4.js';

export const AF_INET = 2;
export const SOCK_CLOEXEC = 0o2000000;

/** A struct sockaddr_in for libc's bind and connect: family (host order), port and address (network order), zeros. */
export function sockaddrIn(address: string, port: number): Buffer {
  const sin = Buffer.alloc(16);
  sin.writeUInt16LE(AF_INET, 0);
  sin.writeUInt16BE(port, 2);
  sin.writeUInt32BE(toInt(address), 4);
  return sin;
}
