// The rtnetlink codec and the messages Rtnl builds, byte for byte. The expected bytes are written
// out from the kernel's structures (linux/netlink.h, rtnetlink.h, if_link.h; little-endian hosts):
// nlmsghdr {u32 len, u16 type, u16 flags, u32 seq, u32 pid}, rtattr {u16 len, u16 type} padded to 4,
// ifinfomsg {u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change}, ifaddrmsg {u8 family,
// u8 prefixlen, u8 flags, u8 scope, u32 index}, rtmsg {u8 family, dst_len, src_len, tos, table,
// protocol, scope, type; u32 flags}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attr, attrNested, attrStr, attrU32, attrU8, ifaddrmsg, ifinfomsg, message, parseAttrs, readStr, readU32, rtmsg, splitMessages, NLM_F, RTM,
} from '../../dist/kernel/netlink/codec.js';
import { Rtnl } from '../../dist/kernel/netlink/rtnl.js';

const hex = (b) => b.toString('hex');
const bytes = (...parts) => parts.join('').replace(/\s+/g, '');

test('attributes: length without padding, payload padded to 4 bytes', () => {
  assert.equal(hex(attrStr(3, 'br0')), bytes('0800 0300', '62723000'));
  assert.equal(hex(attrStr(3, 'br-x')), bytes('0900 0300', '62722d78 00', '000000'));
  assert.equal(hex(attrU32(4, 1500)), bytes('0800 0400', 'dc050000'));
  assert.equal(hex(attrU8(4, 1)), bytes('0500 0400', '01', '000000'));
  assert.equal(hex(attr(1, Buffer.from([2, 0x11, 0x22, 0x33, 0x44, 0x55]))), bytes('0a00 0100', '021122334455', '0000'));
  assert.equal(hex(attrNested(18, attrStr(1, 'bridge'))), bytes('1000 1200', '0b00 0100', '62726964676500', '00'));
});

test('fixed headers: ifinfomsg, ifaddrmsg, rtmsg', () => {
  assert.equal(hex(ifinfomsg(5, 1, 1)), bytes('00 00 0000', '05000000', '01000000', '01000000'));
  assert.equal(hex(ifinfomsg(-1)), bytes('00 00 0000', 'ffffffff', '00000000', '00000000'));
  assert.equal(hex(ifaddrmsg(10, 64, 7, 0, 0x02)), bytes('0a 40 02 00', '07000000'));
  assert.equal(hex(rtmsg({ family: 2, dstLen: 24, table: 254, protocol: 3, scope: 0, type: 1 })), bytes('02 18 00 00 fe 03 00 01', '00000000'));
});

test('nlmsghdr: total length, type, flags, sequence, port 0', () => {
  const m = message(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 7, ifinfomsg());
  assert.equal(hex(m), bytes('20000000', '1000', '0506', '07000000', '00000000', '00'.repeat(16)));
});

test('a reply buffer splits into messages (aligned), and attributes parse back (flags masked, short ones stop)', () => {
  const body = Buffer.concat([ifinfomsg(9), attrStr(3, 'veth1'), attrU32(4, 9000), attr(0x8000 | 18, attrStr(1, 'veth'))]);
  const two = Buffer.concat([message(RTM.NEWLINK, NLM_F.MULTI, 1, body), message(3 /* NLMSG_DONE */, NLM_F.MULTI, 1, Buffer.alloc(4))]);
  const msgs = splitMessages(Buffer.concat([two, Buffer.alloc(8)]), two.length);
  assert.deepEqual(msgs.map((m) => [m.type, m.flags, m.seq, m.body.length]), [[16, 2, 1, body.length], [3, 2, 1, 4]]);
  const attrs = parseAttrs(msgs[0].body, 16);
  assert.equal(readStr(attrs.get(3)), 'veth1');
  assert.equal(readU32(attrs.get(4)), 9000);
  assert.equal(readStr(parseAttrs(attrs.get(18)).get(1)), 'veth', 'the NLA_F_NESTED flag is masked off');
  // A truncated attribute ends parsing instead of reading past the message.
  const cut = Buffer.concat([attrStr(3, 'ok'), Buffer.from('ff00 0400'.replace(/\s/g, ''), 'hex')]);
  assert.deepEqual([...parseAttrs(cut).keys()], [3]);
  assert.deepEqual(splitMessages(Buffer.from('0200000010000000', 'hex'), 8), [], 'a header shorter than 16 bytes is no message');
});

/** A socket that records requests and answers look-ups of `links` (name -> index). */
function fakeSocket(links = {}) {
  const sent = [];
  return {
    sent,
    request(type, flags, body) { sent.push({ type, flags, body: hex(body) }); },
    get(type, body) {
      const name = readStr(parseAttrs(body, 16).get(3));
      return name in links ? [{ type: RTM.NEWLINK, flags: 0, seq: 1, body: Buffer.concat([ifinfomsg(links[name]), attrStr(3, name)]) }] : [];
    },
    close() {},
  };
}

test('Rtnl.addBridge: name, MAC, MTU and kind in one message, then the alias on the link it made', () => {
  const sock = fakeSocket();
  new Rtnl(sock).addBridge('br0', 1500, '02:11:22:33:44:55', 'ctnet:ab:cd');
  assert.deepEqual(sock.sent, [
    {
      type: RTM.NEWLINK, flags: NLM_F.CREATE | NLM_F.EXCL,
      body: bytes('00'.repeat(16), '0800 0300 62723000', '0a00 0100 021122334455 0000', '0800 0400 dc050000', '1000 1200 0b00 0100 6272696467650000'),
    },
    // IFLA_IFALIAS (20) on the existing link: the kernel ignores it at creation.
    { type: RTM.NEWLINK, flags: 0, body: bytes('00'.repeat(16), '0800 0300 62723000', '1000 1400', Buffer.from('ctnet:ab:cd\0').toString('hex')) },
  ]);
});

test('Rtnl.addAddress (IPv4 with broadcast, IPv6 without DAD) and addRoute (default via a gateway)', () => {
  const sock = fakeSocket({ eth0: 7 });
  const rtnl = new Rtnl(sock, true);
  rtnl.addAddress('eth0', '172.17.0.2', 16);
  rtnl.addAddress('eth0', 'fd00::2', 64);
  rtnl.addRoute('0.0.0.0', 0, '172.17.0.1', 'eth0');
  const [v4, v6, route] = sock.sent;
  assert.equal(v4.type, RTM.NEWADDR);
  assert.equal(v4.body, bytes('02 10 00 00 07000000', '0800 0200 ac110002', '0800 0100 ac110002', '0800 0400 ac11ffff'));
  assert.equal(v6.body, bytes('0a 40 02 00 07000000', '1400 0200', 'fd000000000000000000000000000002', '1400 0100', 'fd000000000000000000000000000002'));
  assert.equal(route.type, RTM.NEWROUTE);
  // main table (254), boot protocol (3), universe scope, unicast; OIF then GATEWAY, no DST for a default route.
  assert.equal(route.body, bytes('02 00 00 00 fe 03 00 01 00000000', '0800 0400 07000000', '0800 0500 ac110001'));
});

test('traffic control: tcmsg, a tbf root qdisc, the ingress qdisc, a u32 match-all filter with a mirred egress redirect', async () => {
  // pkt_sched.h: tcmsg {u8 family, u8 pad, u16 pad, i32 ifindex, u32 handle, u32 parent, u32 info}; tc_ratespec {u8 cell_log,
  // u8 linklayer, u16 overhead, i16 cell_align, u16 mpu, u32 rate}; tc_tbf_qopt {rate, peakrate, u32 limit, buffer, mtu};
  // tc_u32_sel {u8 flags, offshift, nkeys, pad; u16 offmask, off; i16 offoff, hoff; u32 hmask} + tc_u32_key {mask, val, off, offmask};
  // tc_mirred {u32 index, capab; i32 action, refcnt, bindcnt; i32 eaction; u32 ifindex}.
  const { tcmsg, tbfQdisc, ingressQdisc, redirectFilter } = await import('../../dist/kernel/netlink/tc.js');
  assert.equal(hex(tcmsg(7, 0x10000, 0xffffffff, 0x10300)), bytes('00 00 0000', '07000000', '00000100', 'ffffffff', '00030100'));
  assert.equal(hex(tbfQdisc(7, { rate: 6_250_000, burst: 125_000, limit: 281_250 })), bytes(
    '00 00 0000 07000000 00000100 ffffffff 00000000',
    '0800 0100', '74626600', // TCA_KIND "tbf"
    '4000 0200', // TCA_OPTIONS: 4 + 40 + 12 + 8
    '2800 0100', '00 01 0000 0000 0000', '105e5f00', '00'.repeat(12), 'a24a0400', '00000000', '00000000', // PARMS: rate 6250000 (0x5f5e10) B/s, limit 281250 (0x44aa2)
    '0c00 0400', '105e5f0000000000', // RATE64
    '0800 0600', '48e80100', // BURST 125000
  ));
  assert.equal(hex(ingressQdisc(7)), bytes('00 00 0000 07000000 0000ffff f1ffffff 00000000', '0c00 0100', '696e677265737300', '0400 0200'));
  assert.equal(hex(redirectFilter(7, 9)), bytes(
    '00 00 0000 07000000 00000000 0000ffff 00030100', // parent ffff:, prio 1, protocol ETH_P_ALL (network order)
    '0800 0100', '75333200', // "u32"
    '6800 0200', // TCA_OPTIONS: 4 + 8 + 36 + 56
    '0800 0100', '01000100', // CLASSID 1:1
    '2400 0500', '01 00 01 00', '0000 0000 0000 0000', '00000000', '00'.repeat(16), // SEL: terminal, one key matching all
    '3800 0700', '3400 0100', '0b00 0100', '6d69727265640000', // ACT, action 1: "mirred"
    '2400 0200', '2000 0200', '00000000 00000000 04000000 00000000 00000000', '01000000', '09000000', // its PARMS: egress redirect (stolen) to 9
  ));
});

// ndmsg {u8 family, u8 pad, u16 pad, i32 index, u16 state, u8 flags, u8 type}; if_link.h IFLA_VXLAN_*:
// ID 1 (u32), LOCAL 4 (in_addr), LEARNING 7 (u8), PORT 15 (big-endian u16).
test('overlay: a VXLAN device, a permanent neighbour, a VXLAN forwarding entry (AF_BRIDGE, self) and an onlink route', () => {
  const sock = fakeSocket({ ctvx4096: 9 });
  const rtnl = new Rtnl(sock, true);
  rtnl.addVxlan('ctvx4096', { vni: 4096, local: '192.168.100.11', port: 4789, mtu: 1450, mac: '02:aa:bb:cc:dd:ee' });
  rtnl.replaceNeighbour('ctvx4096', '10.42.1.0', '02:11:22:33:44:55');
  rtnl.replaceFdb('ctvx4096', '02:11:22:33:44:55', '192.168.100.12');
  rtnl.replaceRoute('10.42.1.0', 24, '10.42.1.0', 'ctvx4096', true);
  const [link, neigh, fdb, route] = sock.sent;
  assert.equal(link.type, RTM.NEWLINK);
  assert.equal(link.flags, NLM_F.CREATE | NLM_F.EXCL);
  assert.equal(link.body, bytes(
    '00'.repeat(16), '0d00 0300', Buffer.from('ctvx4096\0').toString('hex'), '000000',
    '0a00 0100 02aabbccddee 0000', '0800 0400 aa050000',
    // LINKINFO { KIND "vxlan", DATA { ID 4096, LOCAL 192.168.100.11, LEARNING 0, PORT 4789 } }
    '3400 1200', '0a00 0100', Buffer.from('vxlan\0').toString('hex'), '0000',
    '2400 0200', '0800 0100 00100000', '0800 0400 c0a8640b', '0500 0700 00000000', '0600 0f00 12b50000',
  ));
  // AF_INET, index 9, NUD_PERMANENT (0x80); DST then LLADDR; create | replace.
  assert.equal(neigh.type, RTM.NEWNEIGH);
  assert.equal(neigh.flags, NLM_F.CREATE | NLM_F.REPLACE);
  assert.equal(neigh.body, bytes('02 00 0000 09000000 8000 00 00', '0800 0100 0a2a0100', '0a00 0200 021122334455 0000'));
  // AF_BRIDGE (7), NTF_SELF (0x02); LLADDR then DST (the remote VTEP's underlay address).
  assert.equal(fdb.body, bytes('07 00 0000 09000000 8000 02 00', '0a00 0200 021122334455 0000', '0800 0100 c0a8640c'));
  // rtm_flags RTNH_F_ONLINK (4): the gateway is on the device whatever its addresses.
  assert.equal(route.type, RTM.NEWROUTE);
  assert.equal(route.body, bytes('02 18 00 00 fe 03 00 01 04000000', '0800 0400 09000000', '0800 0100 0a2a0100', '0800 0500 0a2a0100'));
});

// nf_tables set elements: the expected bytes are those `nft --debug=mnl add element ...` (nftables
// 1.0.6) printed for the same elements, without the NFTA_SET_ELEM_LIST_SET_ID attribute libnftnl adds
// for sets made in the same batch (the kernel finds an existing set by name). nfgenmsg {u8 family,
// u8 version, be16 res_id}; nested attributes carry NLA_F_NESTED (0x8000), as libnftnl sends them.
test('nf_tables set elements: a concatenated key, a map with a host address, a single-port map, a batch', async () => {
  const { setElementMessages, batchBegin, batchEnd } = await import('../../dist/kernel/netlink/nft-elements.js');
  const [portIp] = setElementMessages('add', [{ family: 'bridge', table: 'ctnet', set: 'port_ip',
    key: [{ type: 'ifname', value: 'vethabc' }, { type: 'ether_addr', value: '02:42:0a:4d:00:09' }, { type: 'ipv4_addr', value: '10.77.0.9' }] }]);
  assert.equal(portIp.type, 0x0a0c); // NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM
  assert.equal(portIp.flags, NLM_F.CREATE);
  assert.equal(hex(portIp.body), bytes('07 00 0000', '0a00 0100', '63746e6574 00', '0000', '0c00 0200', '706f72745f6970 00',
    '2c00 0380', '2800 0180', '2400 0180', '2000 0100', '76657468616263 00', '0000000000000000', '02420a4d0009 0000', '0a4d0009'));
  const [tcpHost] = setElementMessages('add', [{ family: 'ip', table: 'ctnet', set: 'tcp_host',
    key: [{ type: 'ipv4_addr', value: '127.0.0.1' }, { type: 'inet_service', value: 8000 }],
    data: [{ type: 'ipv4_addr', value: '10.77.0.2' }, { type: 'inet_service', value: 8080 }] }]);
  assert.equal(hex(tcpHost.body), bytes('02 00 0000', '0a00 0100', '63746e6574 00', '0000', '0d00 0200', '7463705f686f7374 00', '000000',
    '2800 0380', '2400 0180', '1000 0180', '0c00 0100', '7f000001', '1f40 0000', '1000 0280', '0c00 0100', '0a4d0002', '1f90 0000'));
  const elements = [8081, 8082].map((p) => ({ family: 'ip', table: 'ctnet', set: 'tcp_any', key: [{ type: 'inet_service', value: p }], data: [{ type: 'ipv4_addr', value: '10.77.0.2' }, { type: 'inet_service', value: 80 }] }));
  // A delete names keys only; two elements of one set go in one message.
  const del = setElementMessages('delete', elements);
  assert.equal(del.length, 1);
  assert.equal(del[0].type, 0x0a0e);
  assert.equal(hex(del[0].body), bytes('02 00 0000', '0a00 0100', '63746e6574 00', '0000', '0c00 0200', '7463705f616e79 00',
    '2400 0380', '1000 0180', '0c00 0180', '0600 0100', '1f91 0000', '1000 0180', '0c00 0180', '0600 0100', '1f92 0000'));
  // NFNL_MSG_BATCH_BEGIN / END, res_id NFNL_SUBSYS_NFTABLES (big-endian).
  assert.equal(hex(batchBegin(7)), bytes('14000000', '1000', '0100', '07000000', '00000000', '00 00 000a'));
  assert.equal(hex(batchEnd(8)), bytes('14000000', '1100', '0100', '08000000', '00000000', '00 00 000a'));
  // An ND target (@th,64,128) and an IPv6 address: 16 bytes each.
  const [nd] = setElementMessages('add', [{ family: 'bridge', table: 'ctnet', set: 'port_nd_targets', key: [{ type: 'ifname', value: 'v' }, { type: 'bits128', value: 'fd00::2' }] }]);
  assert.ok(hex(nd.body).endsWith(bytes('2400 0100', '76', '00'.repeat(15), 'fd00', '00'.repeat(12), '0002')));
});

test('nf_tables queries: one element by its key, a set, a table, a chain (outside a batch)', async () => {
  const { getChainQuery, getSetElementQuery, getSetQuery, getTableQuery } = await import('../../dist/kernel/netlink/nft-elements.js');
  const el = getSetElementQuery({ family: 'bridge', table: 'ctnet', set: 'port_arp_targets', key: [{ type: 'ifname', value: 'vethabc' }, { type: 'ipv4_addr', value: '10.77.0.9' }] });
  assert.equal(el.type, 0x0a0d); // NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETSETELEM
  assert.equal(hex(el.body), bytes('07 00 0000', '0a00 0100', '63746e6574 00', '0000', '1500 0200', '706f72745f6172705f74617267657473 00', '000000',
    '2400 0380', '2000 0180', '1c00 0180', '1800 0100', '76657468616263 00', '0000000000000000', '0a4d0009'));
  // A map's element is asked for by its key alone.
  const port = getSetElementQuery({ family: 'ip', table: 'ctnet', set: 'tcp_any', key: [{ type: 'inet_service', value: 8000 }], data: [{ type: 'ipv4_addr', value: '10.77.0.2' }, { type: 'inet_service', value: 80 }] });
  assert.ok(hex(port.body).endsWith(bytes('1400 0380', '1000 0180', '0c00 0180', '0600 0100', '1f40 0000')));
  const set = getSetQuery({ family: 'ip', table: 'ctnet', set: 'tcp_any' });
  assert.equal(set.type, 0x0a0a); // NFT_MSG_GETSET
  assert.equal(hex(set.body), bytes('02 00 0000', '0a00 0100', '63746e6574 00', '0000', '0c00 0200', '7463705f616e79 00'));
  const table = getTableQuery('ip', 'ctnet');
  assert.equal(table.type, 0x0a01); // NFT_MSG_GETTABLE
  assert.equal(hex(table.body), bytes('02 00 0000', '0a00 0100', '63746e6574 00', '0000'));
  const chain = getChainQuery('bridge', 'ctnet', 'forward');
  assert.equal(chain.type, 0x0a04); // NFT_MSG_GETCHAIN
  assert.equal(hex(chain.body), bytes('07 00 0000', '0a00 0100', '63746e6574 00', '0000', '0c00 0300', '666f7277617264 00'));
});

test('nf_tables set elements: thousands of elements go in several messages, each attribute under 64 KiB', async () => {
  const { setElementMessages, MAX_ELEMENTS_BYTES } = await import('../../dist/kernel/netlink/nft-elements.js');
  const elements = Array.from({ length: 10000 }, (_, i) => ({ family: 'ip', table: 'ctnet', set: 'tcp_any', key: [{ type: 'inet_service', value: 20000 + i }], data: [{ type: 'ipv4_addr', value: '10.0.0.2' }, { type: 'inet_service', value: 20000 + i }] }));
  const messages = setElementMessages('add', elements);
  // Each element: LIST_ELEM(4) + KEY(4 + 8) + DATA(4 + 12) = 32 bytes.
  assert.equal(messages.length, Math.ceil((10000 * 32) / MAX_ELEMENTS_BYTES));
  let count = 0;
  for (const m of messages) {
    const list = m.body.subarray(4 + 12 + 12);
    const len = list.readUInt16LE(0);
    assert.ok(len <= MAX_ELEMENTS_BYTES + 4 && len === list.length, `ELEMENTS attribute of ${len} bytes`);
    count += (len - 4) / 32;
  }
  assert.equal(count, 10000);
});
