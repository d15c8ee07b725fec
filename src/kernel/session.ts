import { Nft } from './nft.js';
import { PrivateProcSys, SysctlDirs } from './sysctl.js';
import { closeNetns, netnsPath, openNetns, withNetns, type NetnsHandle } from './netns.js';
import { Rtnl } from './netlink/rtnl.js';
import { NetlinkSocket } from './netlink/socket.js';
import { NETLINK_NETFILTER } from './netlink/nft-elements.js';
import { closeNetfilterSockets } from './netfilter-release.js';
import { linkNamesHere } from './proc.js';

/**
 * How many container namespaces a session keeps a socket and a handle open in. An operation
 * touches one or two; a long-lived engine (the CNI daemon, the library) touches every container it
 * ever attaches, and two descriptors each would reach the process's limit (EMFILE) at a few thousand.
 */
const OPEN_NAMESPACES = 16;

/**
 * The kernel as seen from one host namespace: lazily opened rtnetlink sockets (one per namespace, the
 * host's and the most recently used container namespaces'), an nf_tables netlink socket and a
 * libnftables context in the host's, reused for every operation of a command.
 */
export class KernelSession {
  private readonly sockets = new Map<string | null, Rtnl>();
  private readonly handles = new Map<string, NetnsHandle>();
  private nftCtx: Nft | undefined;
  private nfnlSocket: NetlinkSocket | undefined;
  private hostSysctl: SysctlDirs | undefined;
  private containerSysctl: PrivateProcSys | undefined;

  constructor(readonly host: NetnsHandle) {}

  /** Runs `fn` inside the host namespace (for sysctls and anything else bound to the calling thread). */
  inHost<T>(fn: () => T): T {
    return withNetns(this.host, fn);
  }

  /** The names of the host namespace's links, without their attributes (see linkNamesHere). */
  hostLinkNames(): string[] {
    return this.inHost(linkNamesHere);
  }

  netnsHandle(name: string): NetnsHandle {
    let h = this.handles.get(name);
    if (h) {
      this.handles.delete(name); // most recently used last
    } else {
      h = openNetns(netnsPath(name));
      this.evictBeyond(OPEN_NAMESPACES - 1);
    }
    this.handles.set(name, h);
    return h;
  }

  /** rtnetlink for the host (no name) or a named container namespace. */
  rtnl(netns?: string): Rtnl {
    const key = netns ?? null;
    let r = this.sockets.get(key);
    if (!r) {
      const ns = netns ? this.netnsHandle(netns) : this.host;
      r = withNetns(ns, () => new Rtnl(new NetlinkSocket(), netns !== undefined));
      this.sockets.set(key, r);
    } else if (netns) {
      this.netnsHandle(netns);
    }
    return r;
  }

  /**
   * Drops the link indexes remembered in container namespaces: deleting a veth's host end deletes its
   * peer there, and a veth made again under the same name gets another index.
   */
  forgetLinkIndexes(): void {
    for (const [netns, r] of this.sockets) if (netns !== null) r.forgetIndexes();
  }

  /** Closes the least recently used container namespaces' socket and handle until at most `keep` stay open. */
  private evictBeyond(keep: number): void {
    for (const name of this.handles.keys()) {
      if (this.handles.size <= keep) return;
      this.forget(name);
    }
  }

  /** The host namespace's interface sysctl directories, held open (see SysctlDirs). Use with the thread in the host namespace. */
  hostSysctlDirs(): SysctlDirs {
    if (!this.hostSysctl) this.hostSysctl = new SysctlDirs();
    return this.hostSysctl;
  }

  /** Sysctls of container namespaces (see PrivateProcSys). Use with the thread in the container's namespace. */
  containerSysctls(): PrivateProcSys {
    if (!this.containerSysctl) this.containerSysctl = new PrivateProcSys();
    return this.containerSysctl;
  }

  nft(): Nft {
    if (!this.nftCtx) this.nftCtx = this.inHost(() => new Nft());
    return this.nftCtx;
  }

  /** nf_tables' netlink in the host namespace: a container's set and map elements change through it, without libnftables. */
  nfnl(): NetlinkSocket {
    this.nfnlSocket ??= this.inHost(() => new NetlinkSocket(NETLINK_NETFILTER));
    return this.nfnlSocket;
  }

  /** Closes what this session holds in a container namespace (before the namespace is deleted). */
  forget(netns: string): void {
    this.sockets.get(netns)?.close();
    this.sockets.delete(netns);
    const h = this.handles.get(netns);
    if (h) closeNetns(h);
    this.handles.delete(netns);
  }

  close(): void {
    const netfilter = [...(this.nftCtx?.sockets ?? []), ...(this.nfnlSocket ? [this.nfnlSocket.fd] : [])];
    closeNetfilterSockets(netfilter, () => this.closeAll());
  }

  private closeAll(): void {
    for (const r of this.sockets.values()) r.close();
    this.sockets.clear();
    for (const h of this.handles.values()) closeNetns(h);
    this.handles.clear();
    this.nftCtx?.close();
    this.nftCtx = undefined;
    this.nfnlSocket?.close();
    this.nfnlSocket = undefined;
    this.hostSysctl?.close();
    this.hostSysctl = undefined;
    this.containerSysctl?.close();
    this.containerSysctl = undefined;
  }
}
