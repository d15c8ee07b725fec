import { KernelError, PermissionError } from '../../errors.js';
import { EINTR, SOL_SOCKET, check, errno, intSocketOption, libc, errnoName } from '../libc.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F, message, parseAttrs, readStr, splitMessages, type NlMessage } from './codec.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const SO_SNDBUFFORCE = 32;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;
const NLMSGERR_ATTR_MSG = 1;
const EPERM = 1;

/** Whether descriptor `fd` is a netlink socket of `protocol` (whoever opened it: libnftables opens its own). */
export const isNetlinkSocket = (fd: number, protocol: number): boolean =>
  intSocketOption(fd, SO_DOMAIN) === AF_NETLINK && intSocketOption(fd, SO_PROTOCOL) === protocol;

/** A changing request: its message type, flags beyond REQUEST and ACK, body, and what it does (for errors). */
export interface NlRequest {
  type: number;
  flags: number;
  body: Buffer;
  what: string;
}

/**
 * Where every socket receives, one per process: replies are read synchronously and splitMessages
 * copies what it returns, so nothing refers to it after a receive. A 256 KiB buffer of its own
 * cost each socket (a container's namespace gets a new one) ~0.1-1 ms to allocate and zero.
 */
let rxBuffer: Buffer | undefined;
const receiveBuffer = (): Buffer => (rxBuffer ??= Buffer.allocUnsafe(1 << 18));

/**
 * A blocking netlink socket (NETLINK_ROUTE unless told otherwise). It stays bound to the network
 * namespace that was current when it was opened, so callers open it inside `withNetns` and may use
 * it from anywhere after.
 */
export class NetlinkSocket {
  readonly fd: number;
  private seq = Math.floor(Math.random() * 1e6);
  /** What a send may hold without resizing (below the kernel's default for a netlink socket). */
  private sendBuffer = 128 * 1024;

  constructor(protocol = NETLINK_ROUTE) {
    this.fd = check(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), 'opening a netlink socket');
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    libc().setsockopt(this.fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
    libc().setsockopt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    const addr = Buffer.alloc(12);
    addr.writeUInt16LE(AF_NETLINK, 0);
    check(libc().bind(this.fd, addr, 12), 'binding a netlink socket');
  }

  close(): void {
    libc().close(this.fd);
  }

  private sendMessage(type: number, flags: number, body: Buffer): number {
    const seq = ++this.seq;
    const msg = message(type, flags | NLM_F.REQUEST, seq, body);
    check(libc().send(this.fd, msg, msg.length, 0), 'sending a netlink request');
    return seq;
  }

  private receive(): NlMessage[] {
    // The kernel handled the request during send; a signal only interrupted the wait for the reply.
    const rx = receiveBuffer();
    let n = libc().recv(this.fd, rx, rx.length, 0);
    while (n < 0 && errno() === EINTR) n = libc().recv(this.fd, rx, rx.length, 0);
    return splitMessages(rx, check(n, 'reading a netlink reply'));
  }

  /** Sends a request that changes something and waits for the kernel's acknowledgement. */
  request(type: number, flags: number, body: Buffer, what: string): void {
    const seq = this.sendMessage(type, flags | NLM_F.ACK, body);
    for (;;) {
      for (const m of this.receive()) {
        if (m.seq !== seq || m.type !== NLMSG_ERROR) continue;
        const err = -m.body.readInt32LE(0);
        if (err === 0) return;
        throw netlinkError(what, err, m);
      }
    }
  }

  /**
   * Sends several changing requests in one write and waits for every acknowledgement (the kernel
   * handles them in order; one that fails does not stop the others). Throws the first failure.
   */
  requestAll(requests: readonly NlRequest[]): void {
    this.sendAndAwait(requests);
  }

  /**
   * Sends requests as one nfnetlink batch (`begin` and `end` make the messages between them one
   * transaction: all apply or none) and waits for every acknowledgement. Throws the first failure.
   */
  batch(requests: readonly NlRequest[], begin: (seq: number) => Buffer, end: (seq: number) => Buffer): void {
    this.sendAndAwait(requests, { begin, end });
  }

  private sendAndAwait(requests: readonly NlRequest[], around?: { begin: (seq: number) => Buffer; end: (seq: number) => Buffer }): void {
    const first = this.seq + 1;
    let raw = Buffer.concat(requests.map((r) => message(r.type, r.flags | NLM_F.REQUEST | NLM_F.ACK, ++this.seq, r.body)));
    const outer: number[] = [];
    if (around) {
      outer.push(++this.seq, ++this.seq);
      raw = Buffer.concat([around.begin(outer[0]), raw, around.end(outer[1])]);
    }
    this.fitSendBuffer(raw.length);
    check(libc().send(this.fd, raw, raw.length, 0), 'sending netlink requests');
    let failure: KernelError | PermissionError | undefined;
    for (let pending = requests.length; pending > 0;) {
      for (const m of this.receive()) {
        if (m.type !== NLMSG_ERROR) continue;
        const err = -m.body.readInt32LE(0);
        // The batch refused as a whole (no permission, no nf_tables): no message of it gets an answer.
        if (outer.includes(m.seq) && err !== 0) throw netlinkError(requests[0]?.what ?? 'a netlink batch', err, m);
        const i = m.seq - first;
        if (i < 0 || i >= requests.length) continue;
        pending--;
        if (err !== 0) failure ??= netlinkError(requests[i].what, err, m);
      }
    }
    if (failure) throw failure;
  }

  /**
   * Makes the send buffer hold `bytes`: a batch is one transaction only if it goes in one send, and
   * the kernel refuses a send larger than the buffer (EMSGSIZE; 208 KiB by default). Forced past
   * net.core.wmem_max, as root may (libnftables does the same).
   */
  private fitSendBuffer(bytes: number): void {
    if (bytes <= this.sendBuffer) return;
    const size = Buffer.alloc(4);
    size.writeInt32LE(bytes);
    check(libc().setsockopt(this.fd, SOL_SOCKET, SO_SNDBUFFORCE, size, 4), 'sizing a netlink socket for a large batch');
    this.sendBuffer = bytes;
  }

  /** Sends a GET request; with `dump` collects every reply until NLMSG_DONE. */
  get(type: number, body: Buffer, dump: boolean, what: string): NlMessage[] {
    const seq = this.sendMessage(type, dump ? NLM_F.DUMP : 0, body);
    const out: NlMessage[] = [];
    for (;;) {
      for (const m of this.receive()) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_DONE) return out;
        if (m.type === NLMSG_ERROR) {
          const err = -m.body.readInt32LE(0);
          if (err === 0) return out;
          throw netlinkError(what, err, m);
        }
        out.push(m);
        if (!dump) return out;
      }
    }
  }
}

function netlinkError(what: string, err: number, m: NlMessage): KernelError | PermissionError {
  if (err === EPERM) return new PermissionError(`${what}: operation not permitted; run ctnet as root`);
  let detail = '';
  if (m.flags & NLM_F.ACK_TLVS) {
    // With NETLINK_CAP_ACK the error carries only the original header (16 bytes) before the TLVs.
    detail = readStr(parseAttrs(m.body, 4 + 16).get(NLMSGERR_ATTR_MSG)) ?? '';
  }
  return new KernelError(`${what}: ${errnoName(err)}${detail ? ` (${detail})` : ''}`, err);
}
