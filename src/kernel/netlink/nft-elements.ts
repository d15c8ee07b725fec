import { attr, attrNested, attrStr, ipBytes, macBytes, message, NLM_F } from './codec.js';
import type { NlRequest } from './socket.js';
import type { ElementField, SetElement } from '../../set-element.js';

/**
 * nf_tables set elements on the wire (NFT_MSG_NEWSETELEM / DELSETELEM in an nfnetlink batch): what a
 * container's attach and detach change in ctnet's tables, sent without libnftables, whose every
 * command first reads the tables it names back from the kernel (their sets, the elements of their
 * interval sets) to parse its own text.
 */

export const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
const NFT_MSG_GETTABLE = 1;
const NFT_MSG_GETCHAIN = 4;
const NFT_MSG_GETSET = 10;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_GETSETELEM = 13;
const NFT_MSG_DELSETELEM = 14;
const NFPROTO = { ip: 2, bridge: 7, ip6: 10 } as const;
const NFTA_SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
const NFTA_SET = { TABLE: 1, NAME: 2 } as const;
const NFTA_TABLE_NAME = 1;
const NFTA_CHAIN = { TABLE: 1, NAME: 3 } as const;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM = { KEY: 1, DATA: 2 } as const;
const NFTA_DATA_VALUE = 1;
/** Nested attributes are flagged as such, as libnftnl does. */
const NLA_F_NESTED = 0x8000;
const IFNAMSIZ = 16;

function fieldBytes(f: ElementField): Buffer {
  switch (f.type) {
    case 'ifname': {
      const b = Buffer.alloc(IFNAMSIZ);
      b.write(f.value, 'latin1');
      return b;
    }
    case 'ether_addr':
      return macBytes(f.value);
    case 'ipv4_addr':
    case 'ipv6_addr':
    case 'bits128':
      return ipBytes(f.value);
    case 'inet_service': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(f.value);
      return b;
    }
  }
}

/** A key or data value: one field as it is; a concatenation with every field padded to 4 bytes (one nft register each). */
function fieldsValue(fields: readonly ElementField[]): Buffer {
  if (fields.length === 1) return fieldBytes(fields[0]);
  return Buffer.concat(fields.map((f) => {
    const b = fieldBytes(f);
    return b.length % 4 ? Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) : b;
  }));
}

/** struct nfgenmsg: family, version 0, resource id (big-endian). */
function nfgenmsg(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  b.writeUInt16BE(resId, 2);
  return b;
}

const valueAttr = (type: number, fields: readonly ElementField[]): Buffer =>
  attrNested(type | NLA_F_NESTED, attr(NFTA_DATA_VALUE, fieldsValue(fields)));

/**
 * How many bytes of elements one message carries at most: an attribute's length is 16 bits, and a
 * container publishing a range of 10,000 ports has ~400 KB of them.
 */
export const MAX_ELEMENTS_BYTES = 32 * 1024;

/**
 * The messages that change these elements: per set (in the order the elements name them), as few as
 * fit, each carrying up to MAX_ELEMENTS_BYTES of that set's elements.
 */
export function setElementMessages(verb: 'add' | 'delete', elements: readonly SetElement[]): NlRequest[] {
  const bySet = new Map<string, SetElement[]>();
  for (const e of elements) {
    const k = `${e.family} ${e.table} ${e.set}`;
    const same = bySet.get(k);
    if (same) same.push(e);
    else bySet.set(k, [e]);
  }
  return [...bySet.entries()].flatMap(([what, es]) => {
    const { family, table, set } = es[0];
    const messageOf = (list: Buffer[]): NlRequest => ({
      type: (NFNL_SUBSYS_NFTABLES << 8) | (verb === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
      flags: verb === 'add' ? NLM_F.CREATE : 0,
      body: Buffer.concat([nfgenmsg(NFPROTO[family]),
        attrStr(NFTA_SET_ELEM_LIST.TABLE, table), attrStr(NFTA_SET_ELEM_LIST.SET, set),
        attrNested(NFTA_SET_ELEM_LIST.ELEMENTS | NLA_F_NESTED, ...list)]),
      what: `${verb} element ${what}`,
    });
    const messages: NlRequest[] = [];
    let list: Buffer[] = [];
    let bytes = 0;
    for (const e of es) {
      const item = attrNested(NFTA_LIST_ELEM | NLA_F_NESTED,
        valueAttr(NFTA_SET_ELEM.KEY, e.key), ...(verb === 'add' && e.data ? [valueAttr(NFTA_SET_ELEM.DATA, e.data)] : []));
      if (bytes + item.length > MAX_ELEMENTS_BYTES) {
        messages.push(messageOf(list));
        list = [];
        bytes = 0;
      }
      list.push(item);
      bytes += item.length;
    }
    messages.push(messageOf(list));
    return messages;
  });
}

/** A query (outside a batch): its message type and body. */
export interface NftQuery {
  type: number;
  body: Buffer;
}

/** Asks for one element of a set or map by its key: the kernel answers with it, or with ENOENT. */
export function getSetElementQuery(e: SetElement): NftQuery {
  return {
    type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
    body: Buffer.concat([nfgenmsg(NFPROTO[e.family]), attrStr(NFTA_SET_ELEM_LIST.TABLE, e.table), attrStr(NFTA_SET_ELEM_LIST.SET, e.set),
      attrNested(NFTA_SET_ELEM_LIST.ELEMENTS | NLA_F_NESTED, attrNested(NFTA_LIST_ELEM | NLA_F_NESTED, valueAttr(NFTA_SET_ELEM.KEY, e.key)))]),
  };
}

/** Asks for a table (without what it holds): the kernel answers with it, or with ENOENT. */
export function getTableQuery(family: SetElement['family'], table: string): NftQuery {
  return { type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, body: Buffer.concat([nfgenmsg(NFPROTO[family]), attrStr(NFTA_TABLE_NAME, table)]) };
}

/** Asks for a chain (without its rules): the kernel answers with it, or with ENOENT. */
export function getChainQuery(family: SetElement['family'], table: string, chain: string): NftQuery {
  return { type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, body: Buffer.concat([nfgenmsg(NFPROTO[family]), attrStr(NFTA_CHAIN.TABLE, table), attrStr(NFTA_CHAIN.NAME, chain)]) };
}

/** Asks for a set or map (without its elements): the kernel answers with it, or with ENOENT. */
export function getSetQuery(e: Pick<SetElement, 'family' | 'table' | 'set'>): NftQuery {
  return {
    type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSET,
    body: Buffer.concat([nfgenmsg(NFPROTO[e.family]), attrStr(NFTA_SET.TABLE, e.table), attrStr(NFTA_SET.NAME, e.set)]),
  };
}

/** The messages that open and close an nfnetlink batch (one nf_tables transaction). */
export const batchBegin = (seq: number): Buffer => message(NFNL_MSG_BATCH_BEGIN, NLM_F.REQUEST, seq, nfgenmsg(0, NFNL_SUBSYS_NFTABLES));
export const batchEnd = (seq: number): Buffer => message(NFNL_MSG_BATCH_END, NLM_F.REQUEST, seq, nfgenmsg(0, NFNL_SUBSYS_NFTABLES));
