/**
 * The kernel floor: the same kernel objects as one ctnet attach (a named network namespace, a veth
 * pair into the bridge with its peer born in the namespace under its MAC, the port's hairpin mode,
 * IPv6 off on both ends, loopback up, the address, the link up, the default route, the permanent
 * neighbour entries of the container at the bridge and of the gateway in the container, the port's guard
 * elements and one DNAT map element), made with the fewest calls ctnet's kernel layer allows: one
 * netlink batch in the host namespace, one batch of five in the container's, the two sysctl writes
 * (IPv6 device settings have no netlink form), one nf_tables batch of the elements (as ctnet sends
 * them); no state, no planning, no lock. Attach divided by this is what ctnet adds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { NetlinkSocket } from '../../dist/kernel/netlink/socket.js';
import { NLM_F, RTM, attr, attrNested, attrStr, attrU32, attrU8, ifaddrmsg, ifinfomsg, ndmsg, rtmsg } from '../../dist/kernel/netlink/codec.js';
import { writeSysctl } from '../../dist/kernel/sysctl.js';
import { guardSetElements, mappingSetElements } from '../../dist/firewall/ruleset.js';
import { changeSetElements } from '../../dist/kernel/nft.js';
import { KernelSession } from '../../dist/kernel/session.js';
import { closeNetns, createNamedNetns, deleteNamedNetns, netnsPath, openNetns, withNetns } from '../../dist/kernel/netns.js';
import { deleteNetns, newNetns } from './netns.mjs';
import { SETTLE_MS } from './attach.mjs';
import { summary, timeMs } from './stats.mjs';

const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, MASTER: 10, LINKINFO: 18, NET_NS_FD: 28 };
const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 };
const IFLA_BRPORT_MODE = 4;
const IFF_UP = 1;
const NUD_PERMANENT = 0x80;
/** ip neigh replace IP lladdr MAC dev INDEX nud permanent (NDA_DST, NDA_LLADDR). */
const neighbour = (index, ip, mac) => ({
  type: RTM.NEWNEIGH, flags: NLM_F.CREATE | NLM_F.REPLACE, what: `neighbour ${ip}`, body: Buffer.concat([ndmsg(2, index, NUD_PERMANENT), attr(1, ip4(ip)), attr(2, macBytes(mac))]),
});
const ip4 = (s) => Buffer.from(s.split('.').map(Number));
const macBytes = (m) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));

function checkMade(name, ip, hostNs) {
  const inside = spawnSync('ip', ['-n', name, '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-n', name, 'route'], { encoding: 'utf8' }).stdout
    + spawnSync('ip', ['-n', name, 'neigh'], { encoding: 'utf8' }).stdout;
  const atBridge = spawnSync('ip', ['-n', hostNs, 'neigh', 'show', 'dev', 'br0'], { encoding: 'utf8' }).stdout;
  const nft = (what) => spawnSync('ip', ['netns', 'exec', hostNs, 'nft', 'list', ...what], { encoding: 'utf8' }).stdout;
  const element = nft(['map', 'ip', 'ctnet', 'tcp_any']);
  const guard = nft(['set', 'bridge', 'ctnet', 'port_ip']);
  const port = spawnSync('ip', ['-n', hostNs, '-d', '-o', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }).stdout;
  const ipv6Off = ['net.ipv6.conf.eth0.disable_ipv6', name, 'net.ipv6.conf.vf0.disable_ipv6', hostNs];
  const off = [0, 2].every((i) => spawnSync('ip', ['netns', 'exec', ipv6Off[i + 1], 'sysctl', '-n', ipv6Off[i]], { encoding: 'utf8' }).stdout.trim() === '1');
  if (!inside.includes(`${ip}/16`) || !inside.includes('default via 10.209.0.1 dev eth0') || !/10\.209\.0\.1 dev eth0 lladdr .* PERMANENT/.test(inside) || !atBridge.includes(`${ip} lladdr`) || !element.includes(`${ip} . 80`) || !guard.includes(`${ip}`) || !/vf0@.*state UP.*hairpin on/.test(port) || !off) {
    throw new Error(`the kernel floor did not make what an attach makes: ${inside} ${element} ${guard} ${port} ipv6 off: ${off}`);
  }
}

/** A container's guard elements and one published port's map element. */
const elementsOf = (port, mac, ip, hostPort) => [
  ...guardSetElements({ port, mac, ip }),
  ...mappingSetElements([{ protocol: 'tcp', hostIp: null, hostPort, containerIp: ip, containerPort: 80 }]),
];

/**
 * The floor as one of the attach bench's implementations: `measure(i)` makes and removes the
 * objects of one attach, timed; the first measurement also checks it made what an attach makes.
 */
export function floorImpl() {
  const hostNs = newNetns('floor');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-floor-'));
  const engine = new Engine({ root, hostNetns: hostNs });
  // The bridge, its gateway and ctnet's table (with its port map) exist already, as for an attach.
  engine.createNetwork({ name: 'floor', subnet: '10.209.0.0/16', bridge: 'br0' });
  const session = new KernelSession(openNetns(netnsPath(hostNs)));
  const host = session.rtnl();
  const bridge = host.linkIndex('br0');
  const bridgeMac = host.findLink('br0').mac;
  const nfnl = session.nfnl();
  const hostSock = withNetns(session.host, () => new NetlinkSocket());
  let checked = false;
  return {
    name: 'floor',
    measure(i) {
      const name = `ctfloor-${process.pid}-${i}`;
      const ip = `10.209.${(i >> 8) + 1}.${(i & 255) + 2}`;
      const port = `vf${i}`;
      const mac = `02:42:0a:d1:${((i >> 8) + 1).toString(16).padStart(2, '0')}:${((i & 255) + 2).toString(16).padStart(2, '0')}`;
      const [attach] = timeMs(() => {
        createNamedNetns(name);
        const ns = openNetns(netnsPath(name));
        try {
          // The peer gets index 2 in its fresh namespace (lo is 1), so the batch there needs no look-up.
          const peer = Buffer.concat([ifinfomsg(2), attrStr(IFLA.IFNAME, 'eth0'), attr(IFLA.ADDRESS, macBytes(mac)), attrU32(IFLA.MTU, 1500), attrU32(IFLA.NET_NS_FD, ns.fd)]);
          hostSock.requestAll([
            {
              type: RTM.NEWLINK, flags: NLM_F.CREATE | NLM_F.EXCL, what: 'veth',
              body: Buffer.concat([
                ifinfomsg(0, IFF_UP, IFF_UP), attrStr(IFLA.IFNAME, port), attrU32(IFLA.MTU, 1500), attrU32(IFLA.MASTER, bridge),
                attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.KIND, 'veth'), attrNested(IFLA_INFO.DATA, attr(1, peer))),
              ]),
            },
            neighbour(bridge, ip, mac),
            {
              type: RTM.NEWLINK, flags: 0, what: 'hairpin',
              body: Buffer.concat([ifinfomsg(), attrStr(IFLA.IFNAME, port), attrNested(IFLA.LINKINFO, attrStr(IFLA_INFO.SLAVE_KIND, 'bridge'), attrNested(IFLA_INFO.SLAVE_DATA, attrU8(IFLA_BRPORT_MODE, 1)))]),
            },
          ]);
          withNetns(session.host, () => writeSysctl(`net/ipv6/conf/${port}/disable_ipv6`, '1'));
          withNetns(ns, () => writeSysctl('net/ipv6/conf/eth0/disable_ipv6', '1'));
          const inside = withNetns(ns, () => new NetlinkSocket());
          try {
            inside.requestAll([
              { type: RTM.NEWLINK, flags: 0, body: ifinfomsg(1, IFF_UP, IFF_UP), what: 'lo up' },
              { type: RTM.NEWADDR, flags: NLM_F.CREATE | NLM_F.EXCL, body: Buffer.concat([ifaddrmsg(2, 16, 2), attr(2, ip4(ip)), attr(1, ip4(ip))]), what: 'address' },
              { type: RTM.NEWLINK, flags: 0, body: ifinfomsg(2, IFF_UP, IFF_UP), what: 'eth0 up' },
              { type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.EXCL, body: Buffer.concat([rtmsg({ family: 2, dstLen: 0, table: 254, protocol: 3, scope: 0, type: 1 }), attrU32(4, 2), attr(5, ip4('10.209.0.1'))]), what: 'default route' },
              neighbour(2, '10.209.0.1', bridgeMac),
            ]);
          } finally {
            inside.close();
          }
        } finally {
          closeNetns(ns);
        }
        changeSetElements(nfnl, 'add', elementsOf(port, mac, ip, 20000 + i));
      });
      // Once, untimed: the floor made what an attach makes (or its figure would mean nothing).
      if (!checked) {
        checkMade(name, ip, hostNs);
        checked = true;
      }
      const [detach] = timeMs(() => {
        changeSetElements(nfnl, 'delete', elementsOf(port, mac, ip, 20000 + i));
        hostSock.requestAll([{ type: RTM.DELNEIGH, flags: 0, what: `neighbour ${ip}`, body: Buffer.concat([ndmsg(2, bridge, 0), attr(1, ip4(ip))]) }]);
        deleteNamedNetns(name);
      });
      return { attach, detach };
    },
    close() {
      hostSock.close();
      session.close();
      closeNetns(session.host);
      engine.removeNetwork('floor');
      engine.close();
      deleteNetns(hostNs);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The floor alone: resolves with { attach, detach } summaries (ms). */
export async function benchFloor({ iterations }, log) {
  const floor = floorImpl();
  const attach = [], detach = [];
  try {
    for (let i = 0; i < 3 + iterations; i++) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const m = floor.measure(i);
      if (i >= 3) {
        attach.push(m.attach);
        detach.push(m.detach);
      }
    }
    const r = { attach: summary(attach), detach: summary(detach) };
    log(`  kernel floor: attach p50 ${r.attach.p50.toFixed(2)} ms, detach p50 ${r.detach.p50.toFixed(2)} ms (the same objects, fewest calls)`);
    return r;
  } finally {
    floor.close();
  }
}
