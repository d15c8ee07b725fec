import ipaddr from 'ipaddr.js';
import { constants as osConstants } from 'node:os';
import { KernelError, NotFoundError } from '../../errors.js';
import {
  NLM_F, RTM, attr, attrNested, attrStr, attrU32, attrU8, ifaddrmsg, ifinfomsg, ipBytes, ipv4Bytes, macBytes, ndmsg, parseAttrs, readStr, readU32, rtmsg,
  type NlMessage,
} from './codec.js';
import { NetlinkSocket } from './socket.js';
import { RTM_TC, ingressQdisc, redirectFilter, tbfQdisc } from './tc.js';
import { isIPv6 } from '../../addr/family.js';
import { broadcast, subnetOf, toInt } from '../../addr/ipv4.js';

const AF_INET = 2;
const IFF_UP = 0x1;
const IFF_NOARP = 0x80;
const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, LINKINFO: 18, IFALIAS: 20, NET_NS_FD: 28 } as const;
const IFLA_MACVLAN_MODE = 1;
const MACVLAN_MODE_BRIDGE = 4;
const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4;
const IFA = { ADDRESS: 1, LOCAL: 2, BROADCAST: 4 } as const;
const RTA = { DST: 1, OIF: 4, GATEWAY: 5, TABLE: 15 } as const;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const RT_SCOPE_UNIVERSE = 0;
const { ENODEV, EADDRNOTAVAIL, EINVAL, ENOENT, ESRCH } = osConstants.errno;
const AF_BRIDGE = 7;
const IFLA_VXLAN = { ID: 1, LOCAL: 4, LEARNING: 7, PORT: 15 } as const;
const NDA = { DST: 1, LLADDR: 2, IFINDEX: 8 } as const;
const NUD_PERMANENT = 0x80;
const NTF_SELF = 0x02;
const RTNH_F_ONLINK = 0x4;

export interface Link {
  index: number;
  name: string;
  up: boolean;
  mtu: number;
  master?: number;
  kind?: string;
  mac?: string;
  /** The link's alias (ifalias): ctnet marks the bridges it makes with its state directory's ID. */
  alias?: string;
}

export interface LinkFilter {
  kind?: string;
  /** The index of the bridge whose ports are wanted. */
  master?: number;
}

export interface Address {
  index: number;
  address: string;
  prefix: number;
}

export interface Route {
  dst: string;
  dstLen: number;
  gateway?: string;
  oif?: number;
  table: number;
  type: number;
}

const ipv4String = (b: Buffer): string => Array.from(b.subarray(0, 4)).join('.');
const AF_INET6 = 10;
/** IFA_F_NODAD: the address is usable at once; on a bridge or veth of ctnet's, nothing else claims it. */
const IFA_F_NODAD = 0x02;
const familyOf = (ip: string): number => (isIPv6(ip) ? AF_INET6 : AF_INET);
const ipString = (b: Buffer, family: number): string =>
  family === AF_INET6 ? ipaddr.fromByteArray(Array.from(b.subarray(0, 16))).toString() : ipv4String(b);
const macString = (b: Buffer): string => Array.from(b).map((x) => x.toString(16).padStart(2, '0')).join(':');

function parseLink(m: NlMessage): Link {
  const attrs = parseAttrs(m.body, 16);
  const info = attrs.get(IFLA.LINKINFO);
  const kind = info ? readStr(parseAttrs(info).get(IFLA_INFO.KIND)) : undefined;
  const mac = attrs.get(IFLA.ADDRESS);
  return {
    index: m.body.readInt32LE(4),
    name: readStr(attrs.get(IFLA.IFNAME)) ?? '',
    up: (m.body.readUInt32LE(8) & IFF_UP) !== 0,
    mtu: readU32(attrs.get(IFLA.MTU)) ?? 0,
    master: readU32(attrs.get(IFLA.MASTER)),
    kind,
    mac: mac && mac.length === 6 ? macString(mac) : undefined,
    alias: readStr(attrs.get(IFLA.IFALIAS)),
  };
}

/** Typed rtnetlink operations on one network namespace (the one its socket was opened in). */
export class Rtnl {
  private readonly indexes = new Map<string, number>();
  /** Indexes of the links ports are made on and neighbours set on, remembered in any namespace: see withRememberedIndex. */
  private readonly remembered = new Map<string, number>();

  /**
   * @param cacheIndexes remember name -> index look-ups: safe in a container's namespace, whose
   * links only ctnet changes and which dies with the container; not in the host's, where a link
   * may be deleted and re-created by another process under the same name.
   */
  constructor(private readonly sock: NetlinkSocket, private readonly cacheIndexes = false) {}

  close(): void {
    this.sock.close();
  }

  /** Forgets the remembered indexes (their links were deleted from outside this namespace). */
  forgetIndexes(): void {
    this.indexes.clear();
    this.remembered.clear();
  }

  /**
   * The namespace's links, or only those of one kind or on one bridge. The kernel fills only the
   * links that match (checked again here: a kind whose module is not loaded filters nothing). Filling
   * a veth whose peer is in another namespace walks every namespace ID the host's namespace holds
   * (peernet2id), ~0.1 ms a veth at 10,000 containers: every link then takes ~1 s, the bridges 3 ms.
   */
  listLinks(filter: LinkFilter = {}): Link[] {
    const { kind, master } = filter;
    const body = Buffer.concat([
      ifinfomsg(),
      ...(kind !== undefined ? [attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, kind))] : []),
      ...(master !== undefined ? [attrU32(IFLA.MASTER, master)] : []),
    ]);
    return this.sock
      .get(RTM.GETLINK, body, true, 'listing links')
      .map(parseLink)
      .filter((l) => (kind === undefined || l.kind === kind) && (master === undefined || l.master === master));
  }

  /** The link with this index, or undefined when there is none. */
  findLinkByIndex(index: number): Link | undefined {
    const m = this.oneLink(ifinfomsg(index), `looking up link ${index}`);
    return m ? parseLink(m) : undefined;
  }

  /** The link called `name`, or undefined when there is none. */
  findLink(name: string): Link | undefined {
    const m = this.linkMessage(name);
    return m ? parseLink(m) : undefined;
  }

  /**
   * The index of the link called `name`, read from the reply's header: a bridge's reply carries
   * ~100 attributes, and parsing them in a command's first (cold) look-up took ~4 ms.
   */
  linkIndex(name: string): number {
    const cached = this.indexes.get(name);
    if (cached !== undefined) return cached;
    const m = this.linkMessage(name);
    if (!m) throw new NotFoundError(`link ${name} does not exist`);
    const index = m.body.readInt32LE(4);
    if (this.cacheIndexes) this.indexes.set(name, index);
    return index;
  }

  private linkMessage(name: string): NlMessage | undefined {
    return this.oneLink(Buffer.concat([ifinfomsg(), attrStr(IFLA.IFNAME, name)]), `looking up link ${name}`);
  }

  private oneLink(request: Buffer, what: string): NlMessage | undefined {
    try {
      const [m] = this.sock.get(RTM.GETLINK, request, false, what);
      return m;
    } catch (err) {
      if (err instanceof KernelError && err.errno === ENODEV) return undefined;
      throw err;
    }
  }

  /** An ifinfomsg addressing an existing link by name: the kernel resolves it, no look-up round trip. */
  private byName(name: string, flags = 0, change = 0): Buffer {
    return Buffer.concat([ifinfomsg(0, flags, change), attrStr(IFLA.IFNAME, name)]);
  }

  addBridge(name: string, mtu: number, mac: string, alias?: string): void {
    const body = Buffer.concat([
      ifinfomsg(),
      attrStr(IFLA.IFNAME, name),
      attr(IFLA.ADDRESS, macBytes(mac)),
      attrU32(IFLA.MTU, mtu),
      attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'bridge')),
    ]);
    this.sock.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, body, `creating bridge ${name}`);
    // The kernel ignores IFLA_IFALIAS when it creates a link; it takes it on an existing one.
    if (alias) this.sock.request(RTM.NEWLINK, 0, Buffer.concat([this.byName(name), attrStr(IFLA.IFALIAS, alias)]), `marking bridge ${name}`);
  }

  /**
   * Creates a veth pair whose peer is born directly inside the namespace `peerNsFd` (no move
   * afterwards; null: beside it). With `master`, the host end is created already attached to that bridge and up.
   * (The peer cannot be created up: it has no partner yet while it is configured, so opening it
   * fails with ENOTCONN.)
   */
  addVeth(name: string, peerName: string, peerNsFd: number | null, mtu: number, master?: string, peerMac?: string): void {
    const mac = peerMac ? [attr(IFLA.ADDRESS, macBytes(peerMac))] : [];
    const ns = peerNsFd === null ? [] : [attrU32(IFLA.NET_NS_FD, peerNsFd)];
    const peer = Buffer.concat([ifinfomsg(), attrStr(IFLA.IFNAME, peerName), attrU32(IFLA.MTU, mtu), ...mac, ...ns]);
    const create = (masterIndex?: number): void => {
      const body = Buffer.concat([
        masterIndex !== undefined ? ifinfomsg(0, IFF_UP, IFF_UP) : ifinfomsg(),
        attrStr(IFLA.IFNAME, name),
        attrU32(IFLA.MTU, mtu),
        ...(masterIndex !== undefined ? [attrU32(IFLA.MASTER, masterIndex)] : []),
        attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'veth'), attrNested(IFLA_INFO.DATA, attr(VETH_INFO_PEER, peer))),
      ]);
      this.sock.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, body, `creating veth pair ${name}/${peerName}`);
    };
    if (!master) return create();
    this.withRememberedIndex(master, EINVAL, create);
  }

  /**
   * Runs `request` with a link's index remembered from an earlier call, without a look-up (a
   * bridge's reply is ~100 attributes: ~0.1 ms an attach). A link deleted since (and perhaps made
   * again by another process) left an index no link has: the kernel refuses it with `staleErrno`
   * and does nothing, and the request is made again with a fresh look-up. Indexes are not reused:
   * the kernel counts up.
   */
  private withRememberedIndex(name: string, staleErrno: number, request: (index: number) => void): void {
    const remembered = this.remembered.get(name);
    if (remembered !== undefined) {
      try {
        return request(remembered);
      } catch (err) {
        if (!(err instanceof KernelError && err.errno === staleErrno)) throw err;
        this.remembered.delete(name);
      }
    }
    const index = this.linkIndex(name);
    request(index);
    this.remembered.set(name, index);
  }

  /** A macvlan in bridge mode on `parent`, created directly inside the namespace `nsFd` as `name`. */
  addMacvlan(name: string, parent: string, nsFd: number, mtu: number, mac?: string): void {
    const body = Buffer.concat([
      ifinfomsg(),
      attrStr(IFLA.IFNAME, name),
      attrU32(IFLA.LINK, this.linkIndex(parent)),
      attrU32(IFLA.MTU, mtu),
      ...(mac ? [attr(IFLA.ADDRESS, macBytes(mac))] : []),
      attrU32(IFLA.NET_NS_FD, nsFd),
      attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'macvlan'), attrNested(IFLA_INFO.DATA, attrU32(IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE))),
    ]);
    this.sock.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, body, `creating macvlan ${name} on ${parent}`);
  }

  setMaster(name: string, master: string): void {
    const body = Buffer.concat([this.byName(name), attrU32(IFLA.MASTER, this.linkIndex(master))]);
    this.sock.request(RTM.NEWLINK, 0, body, `attaching ${name} to ${master}`);
  }

  /** ARP off (IFF_NOARP): the link neither asks nor answers for addresses. */
  setNoArp(name: string): void {
    this.sock.request(RTM.NEWLINK, 0, this.byName(name, IFF_NOARP, IFF_NOARP), `setting arp off on ${name}`);
  }

  setUp(name: string, up = true): void {
    this.sock.request(RTM.NEWLINK, 0, this.byName(name, up ? IFF_UP : 0, IFF_UP), `setting ${name} ${up ? 'up' : 'down'}`);
  }

  /** An ifb device (intermediate functional block): what is redirected to it leaves through its egress, where it is shaped. */
  addIfb(name: string, mtu: number, alias?: string): void {
    const body = Buffer.concat([ifinfomsg(), attrStr(IFLA.IFNAME, name), attrU32(IFLA.MTU, mtu), attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'ifb'))]);
    this.sock.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, body, `creating ifb ${name}`);
    if (alias) this.sock.request(RTM.NEWLINK, 0, Buffer.concat([this.byName(name), attrStr(IFLA.IFALIAS, alias)]), `marking ifb ${name}`);
  }

  /** A token bucket as the root qdisc of `dev`: what leaves it is held to `rate` bytes/s (burst and queue in bytes). */
  addTbf(dev: string, t: { rate: number; burst: number; limit: number }): void {
    this.sock.request(RTM_TC.NEWQDISC, NLM_F.CREATE | NLM_F.EXCL, tbfQdisc(this.linkIndex(dev), t), `limiting ${dev} to ${t.rate * 8} bit/s`);
  }

  /** Every frame `dev` receives is redirected to the egress of `to` (an ingress qdisc and a u32 filter with mirred). */
  addRedirect(dev: string, to: string): void {
    const index = this.linkIndex(dev);
    this.sock.request(RTM_TC.NEWQDISC, NLM_F.CREATE | NLM_F.EXCL, ingressQdisc(index), `adding an ingress qdisc to ${dev}`);
    this.sock.request(RTM_TC.NEWTFILTER, NLM_F.CREATE | NLM_F.EXCL, redirectFilter(index, this.linkIndex(to)), `redirecting what ${dev} receives to ${to}`);
  }

  /** Bridge port hairpin mode: frames may leave through the port they came in on (container -> host:port -> itself). */
  setHairpin(name: string, on: boolean): void {
    const body = Buffer.concat([
      this.byName(name),
      attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.SLAVE_KIND, 'bridge'), attrNested(IFLA_INFO.SLAVE_DATA, attrU8(IFLA_BRPORT_MODE, on ? 1 : 0))),
    ]);
    this.sock.request(RTM.NEWLINK, 0, body, `setting hairpin on ${name}`);
  }

  /** Deletes a link; a link that does not exist counts as deleted. Returns whether it existed. */
  deleteLink(name: string): boolean {
    const link = this.findLink(name);
    if (!link) return false;
    this.indexes.delete(name);
    try {
      this.sock.request(RTM.DELLINK, 0, ifinfomsg(link.index), `deleting link ${name}`);
    } catch (err) {
      if (err instanceof KernelError && err.errno === ENODEV) return false;
      throw err;
    }
    return true;
  }

  addAddress(name: string, ip: string, prefix: number): void {
    const body = isIPv6(ip)
      ? Buffer.concat([ifaddrmsg(AF_INET6, prefix, this.linkIndex(name), 0, IFA_F_NODAD), attr(IFA.LOCAL, ipBytes(ip)), attr(IFA.ADDRESS, ipBytes(ip))])
      : Buffer.concat([
        ifaddrmsg(AF_INET, prefix, this.linkIndex(name)),
        attr(IFA.LOCAL, ipv4Bytes(ip)),
        attr(IFA.ADDRESS, ipv4Bytes(ip)),
        attr(IFA.BROADCAST, ipv4Bytes(broadcast(subnetOf(toInt(ip), prefix)))),
      ]);
    this.sock.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, body, `adding address ${ip}/${prefix} to ${name}`);
  }

  deleteAddress(name: string, ip: string, prefix: number): void {
    const link = this.findLink(name);
    if (!link) return;
    const body = Buffer.concat([ifaddrmsg(familyOf(ip), prefix, link.index), attr(isIPv6(ip) ? IFA.ADDRESS : IFA.LOCAL, ipBytes(ip))]);
    try {
      this.sock.request(RTM.DELADDR, 0, body, `deleting address ${ip}/${prefix} from ${name}`);
    } catch (err) {
      if (!(err instanceof KernelError && (err.errno === EADDRNOTAVAIL || err.errno === ENODEV))) throw err;
    }
  }

  /** IPv4 addresses; with `family6`, IPv6 ones. */
  listAddresses(family6 = false): Address[] {
    const family = family6 ? AF_INET6 : AF_INET;
    return this.sock.get(RTM.GETADDR, ifaddrmsg(family, 0, 0), true, 'listing addresses').map((m) => {
      const attrs = parseAttrs(m.body, 8);
      const raw = attrs.get(IFA.LOCAL) ?? attrs.get(IFA.ADDRESS);
      return { index: m.body.readUInt32LE(4), prefix: m.body.readUInt8(1), address: raw ? ipString(raw, family) : '' };
    });
  }

  addRoute(dst: string, dstLen: number, gateway: string | undefined, dev: string): void {
    const parts = [
      rtmsg({ family: familyOf(dst), dstLen, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_UNIVERSE, type: RTN_UNICAST }),
      attrU32(RTA.OIF, this.linkIndex(dev)),
    ];
    if (dstLen > 0) parts.push(attr(RTA.DST, ipBytes(dst)));
    if (gateway) parts.push(attr(RTA.GATEWAY, ipBytes(gateway)));
    this.sock.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, Buffer.concat(parts), `adding route ${dst}/${dstLen}${gateway ? ` via ${gateway}` : ''} dev ${dev}`);
  }

  /**
   * A VXLAN device: `vni`, encapsulating from the host's underlay address `local` to UDP `port`, no
   * learning (flannel's model: every remote VTEP is a static FDB entry and neighbour, nothing floods).
   */
  addVxlan(name: string, v: { vni: number; local: string; port: number; mtu: number; mac: string; alias?: string }): void {
    const port = Buffer.alloc(2);
    port.writeUInt16BE(v.port);
    const body = Buffer.concat([
      ifinfomsg(),
      attrStr(IFLA.IFNAME, name),
      attr(IFLA.ADDRESS, macBytes(v.mac)),
      attrU32(IFLA.MTU, v.mtu),
      attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'vxlan'), attrNested(IFLA_INFO.DATA,
        attrU32(IFLA_VXLAN.ID, v.vni), attr(IFLA_VXLAN.LOCAL, ipv4Bytes(v.local)), attrU8(IFLA_VXLAN.LEARNING, 0), attr(IFLA_VXLAN.PORT, port))),
    ]);
    this.sock.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, body, `creating VXLAN ${name} (VNI ${v.vni})`);
    if (v.alias) this.sock.request(RTM.NEWLINK, 0, Buffer.concat([this.byName(name), attrStr(IFLA.IFALIAS, v.alias)]), `marking VXLAN ${name}`);
  }

  /**
   * A permanent neighbour entry (ip neigh replace IP lladdr MAC dev DEV nud permanent), IPv4 or IPv6.
   * The kernel neither expires it nor counts it against the neighbour table's size (gc_thresh3).
   */
  replaceNeighbour(dev: string, ip: string, mac: string): void {
    const set = (index: number): void => {
      const body = Buffer.concat([ndmsg(familyOf(ip), index, NUD_PERMANENT), attr(NDA.DST, ipBytes(ip)), attr(NDA.LLADDR, macBytes(mac))]);
      this.sock.request(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE, body, `setting neighbour ${ip} -> ${mac} on ${dev}`);
    };
    this.withRememberedIndex(dev, ENODEV, set);
  }

  /** Deletes a neighbour entry; one (or a device) already gone counts as deleted. */
  deleteNeighbour(dev: string, ip: string): void {
    const del = (index: number): void => {
      try {
        this.sock.request(RTM.DELNEIGH, 0, Buffer.concat([ndmsg(familyOf(ip), index, 0), attr(NDA.DST, ipBytes(ip))]), `deleting neighbour ${ip} on ${dev}`);
      } catch (err) {
        // ENODEV is left to withRememberedIndex: a remembered index of a device deleted since.
        if (!(err instanceof KernelError && (err.errno === ENOENT || err.errno === ESRCH))) throw err;
      }
    };
    try {
      this.withRememberedIndex(dev, ENODEV, del);
    } catch (err) {
      // The device is gone, and its entries with it.
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** The permanent neighbour entries of one link (both families). */
  permanentNeighbours(dev: string): { ip: string; mac?: string }[] {
    const link = this.findLink(dev);
    if (!link) return [];
    return [AF_INET, AF_INET6].flatMap((family) =>
      // NDA_IFINDEX: the kernel sends only that link's.
      this.sock.get(RTM.GETNEIGH, Buffer.concat([ndmsg(family, 0, 0), attrU32(NDA.IFINDEX, link.index)]), true, `listing neighbours of ${dev}`).flatMap((m) => {
        if (m.body.readInt32LE(4) !== link.index || !(m.body.readUInt16LE(8) & NUD_PERMANENT)) return [];
        const attrs = parseAttrs(m.body, 12);
        const dst = attrs.get(NDA.DST);
        const mac = attrs.get(NDA.LLADDR);
        return dst ? [{ ip: ipString(dst, family), mac: mac?.length === 6 ? macString(mac) : undefined }] : [];
      }));
  }

  /** A permanent forwarding entry of a VXLAN device: frames for `mac` go to the VTEP at `dst` (bridge fdb replace ... self). */
  replaceFdb(dev: string, mac: string, dst: string): void {
    const body = Buffer.concat([ndmsg(AF_BRIDGE, this.linkIndex(dev), NUD_PERMANENT, NTF_SELF), attr(NDA.LLADDR, macBytes(mac)), attr(NDA.DST, ipv4Bytes(dst))]);
    this.sock.request(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE, body, `setting forwarding entry ${mac} -> ${dst} on ${dev}`);
  }

  deleteFdb(dev: string, mac: string, dst: string): void {
    const link = this.findLink(dev);
    if (!link) return;
    const body = Buffer.concat([ndmsg(AF_BRIDGE, link.index, 0, NTF_SELF), attr(NDA.LLADDR, macBytes(mac)), attr(NDA.DST, ipv4Bytes(dst))]);
    this.ignoringMissing(() => this.sock.request(RTM.DELNEIGH, 0, body, `deleting forwarding entry ${mac} on ${dev}`));
  }

  /** A route whose gateway is on the device whatever its addresses say (`onlink`): a remote block via its VTEP address. */
  replaceRoute(dst: string, dstLen: number, gateway: string, dev: string, onlink: boolean): void {
    const body = Buffer.concat([
      rtmsg({ family: AF_INET, dstLen, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_UNIVERSE, type: RTN_UNICAST, flags: onlink ? RTNH_F_ONLINK : 0 }),
      attrU32(RTA.OIF, this.linkIndex(dev)), attr(RTA.DST, ipv4Bytes(dst)), attr(RTA.GATEWAY, ipv4Bytes(gateway)),
    ]);
    this.sock.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, body, `setting route ${dst}/${dstLen} via ${gateway} dev ${dev}`);
  }

  deleteRoute(dst: string, dstLen: number): void {
    const body = Buffer.concat([rtmsg({ family: AF_INET, dstLen, table: RT_TABLE_MAIN, protocol: 0, scope: 0, type: 0 }), attr(RTA.DST, ipv4Bytes(dst))]);
    this.ignoringMissing(() => this.sock.request(RTM.DELROUTE, 0, body, `deleting route ${dst}/${dstLen}`));
  }

  private ignoringMissing(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof KernelError && (err.errno === ENOENT || err.errno === ESRCH || err.errno === ENODEV))) throw err;
    }
  }

  listRoutes(): Route[] {
    const req = rtmsg({ family: AF_INET, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 });
    return this.sock.get(RTM.GETROUTE, req, true, 'listing routes').map((m) => {
      const attrs = parseAttrs(m.body, 12);
      const dst = attrs.get(RTA.DST);
      const gw = attrs.get(RTA.GATEWAY);
      return {
        dstLen: m.body.readUInt8(1),
        dst: dst ? ipv4String(dst) : '0.0.0.0',
        gateway: gw ? ipv4String(gw) : undefined,
        oif: readU32(attrs.get(RTA.OIF)),
        table: readU32(attrs.get(RTA.TABLE)) ?? m.body.readUInt8(4),
        type: m.body.readUInt8(7),
      };
    });
  }
}
