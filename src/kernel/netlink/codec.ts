import ipaddr from 'ipaddr.js';
import { isIPv6 } from '../../addr/family.js';
import { toInt } from '../../addr/ipv4.js';

/** rtnetlink wire format: nlmsghdr, fixed headers, and nested rtattr TLVs (host byte order, 4-byte aligned). */

export const NLMSG_HDRLEN = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  ACK_TLVS: 0x200,
} as const;

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWNEIGH: 28, DELNEIGH: 29, GETNEIGH: 30,
} as const;

const align4 = (n: number): number => (n + 3) & ~3;

export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const attrU8 = (type: number, v: number): Buffer => attr(type, Buffer.from([v]));
export function attrU32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}
export const attrStr = (type: number, s: string): Buffer => attr(type, Buffer.from(s + '\0'));
export const attrNested = (type: number, ...children: Buffer[]): Buffer => attr(type, Buffer.concat(children));

/** Addresses as the kernel takes them: network byte order. */
export const ipv4Bytes = (ip: string | number): Buffer => {
  const n = typeof ip === 'number' ? ip : toInt(ip);
  return Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
};
export const ipBytes = (ip: string): Buffer => (isIPv6(ip) ? Buffer.from(ipaddr.IPv6.parse(ip).toByteArray()) : ipv4Bytes(ip));
export const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));

/** Attributes of one level, keyed by type (nested and byte-order flags masked off). */
export function parseAttrs(buf: Buffer, start = 0, end = buf.length): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    attrs.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return attrs;
}

export const readStr = (b: Buffer | undefined): string | undefined =>
  b === undefined ? undefined : b.toString('utf8', 0, b.indexOf(0) >= 0 ? b.indexOf(0) : b.length);
export const readU32 = (b: Buffer | undefined): number | undefined => (b === undefined ? undefined : b.readUInt32LE(0));

export function message(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq, 8);
  return Buffer.concat([hdr, body]);
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  body: Buffer;
}

export function splitMessages(buf: Buffer, length: number): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      body: Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + len)),
    });
    off += align4(len);
  }
  return out;
}

/** struct ifinfomsg */
export function ifinfomsg(index = 0, flags = 0, change = 0, family = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** struct ifaddrmsg */
export function ifaddrmsg(family: number, prefixlen: number, index: number, scope = 0, flags = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg */
export function rtmsg(f: { family: number; dstLen: number; table: number; protocol: number; scope: number; type: number; flags?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(f.family, 0);
  b.writeUInt8(f.dstLen, 1);
  b.writeUInt8(f.table, 4);
  b.writeUInt8(f.protocol, 5);
  b.writeUInt8(f.scope, 6);
  b.writeUInt8(f.type, 7);
  b.writeUInt32LE(f.flags ?? 0, 8);
  return b;
}

/** struct ndmsg: a neighbour (family AF_INET) or a bridge/VXLAN forwarding entry (family AF_BRIDGE). */
export function ndmsg(family: number, index: number, state: number, flags = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}
