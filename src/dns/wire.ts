import ipaddr from 'ipaddr.js';
import { isIPv6 } from '../addr/family.js';

/**
 * The little of the DNS wire format (RFC 1035) the embedded DNS needs: the one question of a query,
 * and a reply that copies it and appends A records pointing back at its name. Everything else
 * (other classes, several questions, EDNS) either fits this or is passed on as raw bytes.
 */
export interface Query {
  id: number;
  /** The query's RD bit, echoed in the reply. */
  recursionDesired: boolean;
  /** Lower case, without the trailing dot. */
  name: string;
  type: number;
  /** Offset just past the question: the reply keeps bytes [0, end). */
  end: number;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const TYPE_ANY = 255;
export const RCODE = { NOERROR: 0, SERVFAIL: 2, REFUSED: 5 } as const;

/**
 * Where the single question of a standard query ends (past its type and class); undefined for
 * anything else (responses, other opcodes, several questions, garbage). Allocates nothing.
 */
export function questionEnd(msg: Buffer): number | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || (flags >> 11) & 0xf || msg.readUInt16BE(4) !== 1) return undefined;
  let at = 12;
  for (;;) {
    if (at >= msg.length) return undefined;
    const len = msg[at];
    if (len === 0) break;
    if (len > 63 || at + 1 + len > msg.length) return undefined; // compression has no place in a question
    at += 1 + len;
  }
  return at + 5 > msg.length ? undefined : at + 5;
}

/** The single question of a standard query; undefined for anything else (responses, other opcodes, garbage). */
export function parseQuery(msg: Buffer): Query | undefined {
  const end = questionEnd(msg);
  if (end === undefined) return undefined;
  const labels: string[] = [];
  for (let at = 12; msg[at] !== 0; at += 1 + msg[at]) labels.push(msg.toString('latin1', at + 1, at + 1 + msg[at]));
  return { id: msg.readUInt16BE(0), recursionDesired: (msg.readUInt16BE(2) & 0x0100) !== 0, name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(end - 4), end };
}

/** A reply: the query's header and question, the rcode, and one A (or AAAA) record per address (name = pointer to the question's). */
export function buildReply(msg: Buffer, q: Query, rcode: number, addresses: readonly string[] = [], ttl = 600): Buffer {
  const rdata = addresses.map((ip) => (isIPv6(ip) ? Buffer.from(ipaddr.IPv6.parse(ip).toByteArray()) : Buffer.from(ip.split('.').map(Number))));
  const out = Buffer.alloc(q.end + rdata.reduce((n, d) => n + 12 + d.length, 0));
  msg.copy(out, 0, 0, q.end);
  out.writeUInt16BE(0x8000 | (q.recursionDesired ? 0x0100 : 0) | 0x0080 | rcode, 2); // QR, RD as asked, RA
  out.writeUInt16BE(addresses.length, 6); // ANCOUNT
  out.writeUInt32BE(0, 8); // NSCOUNT, ARCOUNT: an EDNS record of the query is not echoed
  let at = q.end;
  for (const d of rdata) {
    out.writeUInt16BE(0xc00c, at); // the name at offset 12
    out.writeUInt16BE(d.length === 16 ? TYPE_AAAA : TYPE_A, at + 2);
    out.writeUInt16BE(1, at + 4); // IN
    out.writeUInt32BE(ttl, at + 6);
    out.writeUInt16BE(d.length, at + 10);
    d.copy(out, at + 12);
    at += 12 + d.length;
  }
  return out;
}
