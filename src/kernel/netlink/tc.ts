import { attr, attrNested, attrStr, attrU32 } from './codec.js';

/**
 * Traffic control over rtnetlink (what `tc` sends): a token bucket (tbf) as a device's root qdisc,
 * the ingress qdisc, and a u32 filter whose mirred action redirects every frame to another device
 * (an ifb, whose egress then shapes what the first device received). Pure message bodies.
 */
export const RTM_TC = { NEWQDISC: 36, NEWTFILTER: 44 } as const;

const TCA = { KIND: 1, OPTIONS: 2 } as const;
const TCA_TBF = { PARMS: 1, RATE64: 4, BURST: 6 } as const;
const TCA_U32 = { CLASSID: 1, SEL: 5, ACT: 7 } as const;
const TCA_ACT = { KIND: 1, OPTIONS: 2 } as const;
const TCA_MIRRED_PARMS = 2;
const TC_H_ROOT = 0xffffffff;
const TC_H_INGRESS = 0xfffffff1;
/** The ingress qdisc's handle, ffff:0. */
const INGRESS_HANDLE = 0xffff0000;
const TC_LINKLAYER_ETHERNET = 1;
const TC_U32_TERMINAL = 1;
const TC_ACT_STOLEN = 4;
const TCA_EGRESS_REDIR = 1;
const ETH_P_ALL = 0x0003;

/** struct tcmsg: family, ifindex, handle, parent, info (for a filter: priority << 16 | protocol in network order). */
export function tcmsg(ifindex: number, handle: number, parent: number, info = 0): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt32LE(handle >>> 0, 8);
  b.writeUInt32LE(parent >>> 0, 12);
  b.writeUInt32LE(info >>> 0, 16);
  return b;
}

/** struct tc_ratespec: the rate in bytes per second (saturated at 2^32-1: TCA_TBF_RATE64 carries the rest). */
function ratespec(bytesPerSecond: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(TC_LINKLAYER_ETHERNET, 1);
  b.writeUInt32LE(Math.min(bytesPerSecond, 0xffffffff), 8);
  return b;
}

/**
 * A token bucket filter as the root qdisc of `ifindex`: `rate` bytes/s, `burst` bytes of bucket,
 * `limit` bytes of queue. With TCA_TBF_BURST the kernel derives the bucket time itself.
 */
export function tbfQdisc(ifindex: number, t: { rate: number; burst: number; limit: number }): Buffer {
  const parms = Buffer.concat([ratespec(t.rate), Buffer.alloc(12), Buffer.alloc(12)]);
  parms.writeUInt32LE(t.limit, 24);
  const rate64 = Buffer.alloc(8);
  rate64.writeBigUInt64LE(BigInt(t.rate));
  return Buffer.concat([
    tcmsg(ifindex, 0x00010000, TC_H_ROOT),
    attrStr(TCA.KIND, 'tbf'),
    attrNested(TCA.OPTIONS, attr(TCA_TBF.PARMS, parms), attr(TCA_TBF.RATE64, rate64), attrU32(TCA_TBF.BURST, t.burst)),
  ]);
}

export function ingressQdisc(ifindex: number): Buffer {
  return Buffer.concat([tcmsg(ifindex, INGRESS_HANDLE, TC_H_INGRESS), attrStr(TCA.KIND, 'ingress'), attrNested(TCA.OPTIONS)]);
}

/** A u32 filter on the ingress qdisc of `ifindex` matching every frame, with mirred: egress redirect to `targetIndex`. */
export function redirectFilter(ifindex: number, targetIndex: number): Buffer {
  // tc_u32_sel (16 bytes) with one key matching anything (mask 0, value 0).
  const sel = Buffer.alloc(16 + 16);
  sel.writeUInt8(TC_U32_TERMINAL, 0);
  sel.writeUInt8(1, 2);
  // tc_mirred: tc_gen { index, capab, action, refcnt, bindcnt }, eaction, ifindex.
  const mirred = Buffer.alloc(28);
  mirred.writeInt32LE(TC_ACT_STOLEN, 8);
  mirred.writeInt32LE(TCA_EGRESS_REDIR, 20);
  mirred.writeUInt32LE(targetIndex, 24);
  const action = attrNested(1, attrStr(TCA_ACT.KIND, 'mirred'), attrNested(TCA_ACT.OPTIONS, attr(TCA_MIRRED_PARMS, mirred)));
  const protocol = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8);
  return Buffer.concat([
    tcmsg(ifindex, 0, INGRESS_HANDLE, (1 << 16) | protocol),
    attrStr(TCA.KIND, 'u32'),
    attrNested(TCA.OPTIONS, attrU32(TCA_U32.CLASSID, 0x00010001), attr(TCA_U32.SEL, sel), attrNested(TCA_U32.ACT, action)),
  ]);
}
