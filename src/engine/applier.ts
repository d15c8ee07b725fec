import { ConflictError, KernelError } from '../errors.js';
import { attachDeviceProgram } from '../kernel/bpf.js';
import { setXattr } from '../kernel/libc.js';
import { changeSetElements } from '../kernel/nft.js';
import { createNamedNetns, deleteNamedNetns, netnsExists, withNetns } from '../kernel/netns.js';
import type { KernelSession } from '../kernel/session.js';
import { readSysctl, writeSysctl, writeSysctlIfPresent } from '../kernel/sysctl.js';
import type { Applier } from '../plan/executor.js';
import { CGROUP_OWNER_XATTR, type Op } from '../plan/ops.js';
import { makeCgroupDirs, removeContainerCgroup, writeCgroupFiles } from '../kernel/cgroups.js';
import { deviceProgram, parseDeviceRule } from '../sandbox/device-program.js';
import { BRIDGE_FULL, BRIDGE_MAX_PORTS } from './bridge-limits.js';

/** What the kernel says when a bridge has no free port (ports ctnet did not make fill it before ctnet's own bound). */
const EXFULL = 54;

/**
 * Binds plans to the kernel: each operation a planner returns becomes the kernel calls of one
 * session (netlink, nftables, sysctls, cgroupfs). The executor drives it; the planners never see it.
 */
export class KernelApplier implements Applier {
  constructor(readonly kernel: KernelSession) {}

  /** One case per operation (long: the switch is the list of what ctnet does to the kernel). */
  apply(op: Op): Op | void {
    switch (op.op) {
      case 'netns.add':
        createNamedNetns(op.name);
        return;
      case 'netns.del':
        this.kernel.forget(op.name);
        deleteNamedNetns(op.name);
        return;
      case 'bridge.add':
        this.kernel.rtnl().addBridge(op.name, op.mtu, op.mac, op.alias);
        return;
      case 'veth.add': {
        const peerNs = this.kernel.netnsHandle(op.peerNetns);
        try {
          this.kernel.rtnl().addVeth(op.name, op.peer, peerNs.fd as number, op.mtu, op.master, op.peerMac);
        } catch (err) {
          if (op.master && err instanceof KernelError && err.errno === EXFULL) {
            throw new ConflictError(`bridge ${op.master} has ${BRIDGE_MAX_PORTS.toLocaleString('en-US')} ports, ${BRIDGE_FULL}; put further containers on another network`);
          }
          throw err;
        }
        return;
      }
      case 'macvlan.add': {
        const ns = this.kernel.netnsHandle(op.netns);
        this.kernel.rtnl().addMacvlan(op.name, op.parent, ns.fd as number, op.mtu, op.mac);
        return;
      }
      case 'segment.add': {
        const rtnl = this.kernel.rtnl();
        rtnl.addBridge(op.bridge, op.mtu, op.mac, op.alias);
        try {
          rtnl.setNoArp(op.bridge);
          rtnl.addVeth(op.trunk, op.peer, this.kernel.host.fd, op.mtu, op.master);
          rtnl.setMaster(op.peer, op.bridge);
          rtnl.setHairpin(op.trunk, true);
        } catch (err) {
          rtnl.deleteLink(op.trunk);
          rtnl.deleteLink(op.bridge);
          throw err;
        }
        return;
      }
      case 'segment.del':
        this.kernel.rtnl().deleteLink(op.trunk);
        this.kernel.rtnl().deleteLink(op.bridge);
        return;
      case 'link.del':
        if (op.netns && !netnsExists(op.netns)) return;
        this.kernel.rtnl(op.netns).deleteLink(op.name);
        // A host veth takes its peer in a container's namespace with it, behind that namespace's back.
        if (!op.netns) this.kernel.forgetLinkIndexes();
        return;
      case 'link.up':
        this.kernel.rtnl(op.netns).setUp(op.name);
        return;
      case 'link.down':
        if (this.kernel.rtnl(op.netns).findLink(op.name)) this.kernel.rtnl(op.netns).setUp(op.name, false);
        return;
      case 'link.master':
        this.kernel.rtnl().setMaster(op.name, op.master);
        return;
      case 'vxlan.add':
        this.kernel.rtnl().addVxlan(op.name, op);
        return;
      case 'peer.set': {
        const rtnl = this.kernel.rtnl();
        rtnl.replaceFdb(op.dev, op.mac, op.underlay);
        rtnl.replaceNeighbour(op.dev, op.vtep, op.mac);
        rtnl.replaceRoute(op.block, op.prefix, op.vtep, op.dev, true);
        return;
      }
      case 'peer.del': {
        const rtnl = this.kernel.rtnl();
        rtnl.deleteRoute(op.block, op.prefix);
        rtnl.deleteNeighbour(op.dev, op.vtep);
        rtnl.deleteFdb(op.dev, op.mac, op.underlay);
        return;
      }
      case 'ifb.add':
        this.kernel.rtnl().addIfb(op.name, op.mtu, op.alias);
        return;
      case 'qdisc.tbf':
        this.kernel.rtnl().addTbf(op.dev, op);
        return;
      case 'tc.redirect':
        this.kernel.rtnl().addRedirect(op.dev, op.to);
        return;
      case 'link.hairpin':
        this.kernel.rtnl().setHairpin(op.name, true);
        return;
      case 'addr.add':
        this.kernel.rtnl(op.netns).addAddress(op.dev, op.ip, op.prefix);
        return;
      case 'addr.del':
        // Removing from a namespace that is already gone (a reboot, a manual ip netns del) is done.
        if (op.netns && !netnsExists(op.netns)) return;
        this.kernel.rtnl(op.netns).deleteAddress(op.dev, op.ip, op.prefix);
        return;
      case 'route.add':
        this.kernel.rtnl(op.netns).addRoute(op.dst, op.prefix, op.via, op.dev);
        return;
      case 'neigh.set':
        this.kernel.rtnl(op.netns).replaceNeighbour(op.dev, op.ip, op.mac);
        return;
      case 'neigh.del':
        if (op.netns && !netnsExists(op.netns)) return;
        this.kernel.rtnl(op.netns).deleteNeighbour(op.dev, op.ip);
        return;
      case 'sysctl.set':
        return withNetns(op.netns ? this.kernel.netnsHandle(op.netns) : this.kernel.host, () => {
          const dirs = op.netns ? this.kernel.containerSysctls() : this.kernel.hostSysctlDirs();
          // Nothing to put back: written without reading it first (a look-up in a new namespace costs).
          if (op.ephemeral) {
            if (op.optional) writeSysctlIfPresent(op.key, op.value, dirs);
            else writeSysctl(op.key, op.value, dirs);
            return undefined;
          }
          const previous = readSysctl(op.key, dirs);
          if (previous === undefined && op.optional) return undefined;
          writeSysctl(op.key, op.value, dirs);
          return previous !== undefined && previous !== op.value && !op.ephemeral ? { ...op, value: previous } : undefined;
        });
      case 'cgroup.create':
        try {
          makeCgroupDirs(op.dirs);
          if (op.owner) for (const d of op.dirs) setXattr(d, CGROUP_OWNER_XATTR, op.owner);
          writeCgroupFiles(op.writes);
          if (op.devices) attachDeviceProgram(op.devices.dir, deviceProgram(op.devices.allow.map(parseDeviceRule)));
        } catch (err) {
          if (!op.optional) throw new KernelError(`cannot set up the container's cgroup: ${(err as Error).message}; drop the resource limits (--memory, --cpus, --cpuset-cpus, --pids-limit, ...), or run where cgroups can be made`);
        }
        return;
      case 'cgroup.remove':
        removeContainerCgroup(op.id);
        return;
      case 'nft':
        this.kernel.nft().run(op.script);
        return;
      case 'nft.elements':
        changeSetElements(this.kernel.nfnl(), op.verb, op.elements, op.missingOk);
        return;
    }
  }

  close(): void {
    this.kernel.close();
  }
}
