import { CGROUP_OWNER_XATTR, type Op } from '../plan/ops.js';
import { setXattr } from './libc.js';
import { KernelError } from '../errors.js';
import type { Applier } from '../plan/executor.js';
import { Nft } from './nft.js';
import { closeNetns, createNamedNetns, deleteNamedNetns, netnsExists, netnsPath, openNetns, withNetns, type NetnsHandle } from './netns.js';
import { Rtnl } from './netlink/rtnl.js';
import { RtnlSocket } from './netlink/socket.js';
import { readSysctl, writeSysctl } from './sysctl.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCgroupDirs, removeContainerCgroup } from '../sandbox/cgroups.js';
import { deviceProgram, parseDeviceRule } from '../sandbox/device-program.js';
import { attachDeviceProgram } from './bpf.js';

/**
 * The kernel as seen from one host namespace: lazily opened netlink sockets (one per namespace)
 * and one libnftables context, reused for every operation of a command.
 */
export class KernelSession implements Applier {
  private readonly sockets = new Map<string | null, Rtnl>();
  private readonly handles = new Map<string, NetnsHandle>();
  private nftCtx: Nft | undefined;

  constructor(readonly host: NetnsHandle) {}

  /** Runs `fn` inside the host namespace (for sysctls and anything else bound to the calling thread). */
  inHost<T>(fn: () => T): T {
    return withNetns(this.host, fn);
  }

  netnsHandle(name: string): NetnsHandle {
    let h = this.handles.get(name);
    if (!h) {
      h = openNetns(netnsPath(name));
      this.handles.set(name, h);
    }
    return h;
  }

  /** rtnetlink for the host (no name) or a named container namespace. */
  rtnl(netns?: string): Rtnl {
    const key = netns ?? null;
    let r = this.sockets.get(key);
    if (!r) {
      const ns = netns ? this.netnsHandle(netns) : this.host;
      r = withNetns(ns, () => new Rtnl(new RtnlSocket(), netns !== undefined));
      this.sockets.set(key, r);
    }
    return r;
  }

  nft(): Nft {
    if (!this.nftCtx) this.nftCtx = this.inHost(() => new Nft());
    return this.nftCtx;
  }

  private forget(netns: string): void {
    this.sockets.get(netns)?.close();
    this.sockets.delete(netns);
    const h = this.handles.get(netns);
    if (h) closeNetns(h);
    this.handles.delete(netns);
  }

  apply(op: Op): Op | void {
    switch (op.op) {
      case 'netns.add':
        createNamedNetns(op.name);
        return;
      case 'netns.del':
        this.forget(op.name);
        deleteNamedNetns(op.name);
        return;
      case 'bridge.add':
        this.rtnl().addBridge(op.name, op.mtu, op.mac, op.alias);
        return;
      case 'veth.add': {
        const peerNs = this.netnsHandle(op.peerNetns);
        this.rtnl().addVeth(op.name, op.peer, peerNs.fd as number, op.mtu, op.master, op.peerMac);
        return;
      }
      case 'link.del':
        if (op.netns && !netnsExists(op.netns)) return;
        this.rtnl(op.netns).deleteLink(op.name);
        return;
      case 'link.up':
        this.rtnl(op.netns).setUp(op.name);
        return;
      case 'link.down':
        if (this.rtnl(op.netns).findLink(op.name)) this.rtnl(op.netns).setUp(op.name, false);
        return;
      case 'link.master':
        this.rtnl().setMaster(op.name, op.master);
        return;
      case 'link.hairpin':
        this.rtnl().setHairpin(op.name, true);
        return;
      case 'addr.add':
        this.rtnl(op.netns).addAddress(op.dev, op.ip, op.prefix);
        return;
      case 'addr.del':
        // Removing from a namespace that is already gone (a reboot, a manual ip netns del) is done.
        if (op.netns && !netnsExists(op.netns)) return;
        this.rtnl(op.netns).deleteAddress(op.dev, op.ip, op.prefix);
        return;
      case 'route.add':
        this.rtnl(op.netns).addRoute(op.dst, op.prefix, op.via, op.dev);
        return;
      case 'sysctl.set':
        return withNetns(op.netns ? this.netnsHandle(op.netns) : this.host, () => {
          const previous = readSysctl(op.key);
          if (previous === undefined && op.optional) return undefined;
          writeSysctl(op.key, op.value);
          return previous !== undefined && previous !== op.value && !op.ephemeral ? { ...op, value: previous } : undefined;
        });
      case 'cgroup.create':
        try {
          makeCgroupDirs(op.dirs);
          if (op.owner) for (const d of op.dirs) setXattr(d, CGROUP_OWNER_XATTR, op.owner);
          for (const [d, f, v] of op.writes) writeFileSync(join(d, f), v);
          if (op.devices) attachDeviceProgram(op.devices.dir, deviceProgram(op.devices.allow.map(parseDeviceRule)));
        } catch (err) {
          if (!op.optional) throw new KernelError(`cannot set up the container's cgroup: ${(err as Error).message}; drop --memory, --cpus and --pids-limit, or run where cgroups can be made`);
        }
        return;
      case 'cgroup.remove':
        removeContainerCgroup(op.id);
        return;
      case 'nft':
        if (op.missingOk) this.runIgnoringMissing(op.script);
        else this.nft().run(op.script);
        return;
    }
  }

  /** Deletes what is there: a transaction fails whole on one missing element, so retry line by line. */
  private runIgnoringMissing(script: string): void {
    try {
      this.nft().run(script);
      return;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    for (const line of script.split('\n').filter((l) => l.trim())) {
      try {
        this.nft().run(line);
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }

  close(): void {
    for (const r of this.sockets.values()) r.close();
    this.sockets.clear();
    for (const h of this.handles.values()) closeNetns(h);
    this.handles.clear();
    this.nftCtx?.close();
    this.nftCtx = undefined;
  }
}

const isMissing = (err: unknown): boolean => err instanceof Error && /No such file or directory/.test(err.message);
