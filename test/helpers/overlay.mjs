// Test fixtures for overlay networks: three host namespaces on an underlay segment, an etcd member in
// each (listening only inside the lab), ctnet per host (its own CTNET_ROOT and CTNET_HOST_NETNS).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { buildOverlayLab, destroyOverlayLab, etcdHealthy, etcdLogPath, etcdToolsMissing, overlayLabNames, startEtcdMember } from '../../dist/demo/overlay-lab.js';
import { CTNET, ROOT_DIR, killProcessesMentioning, waitFor } from './lab.mjs';

export { waitFor };

export const PROBE = join(ROOT_DIR, 'dist', 'demo', 'probe.js');
export const ECHO = join(ROOT_DIR, 'dist', 'demo', 'http-echo.js');
export const etcdMissing = etcdToolsMissing;

export async function createOverlayLab({ ttl = 3 } = {}) {
  const lab = overlayLabNames(`o${randomBytes(2).toString('hex')}`);
  buildOverlayLab(lab);
  const etcd = lab.hosts.map((_, i) => startEtcdMember(lab, i));
  const o = {
    lab,
    etcd,
    /** Runs ctnet on host i (0-based); returns { code, stdout, stderr }. */
    ctnet(i, args, timeout = 30000) {
      const h = lab.hosts[i];
      const r = spawnSync(process.execPath, [CTNET, ...args], { env: { ...process.env, CTNET_ROOT: h.root, CTNET_HOST_NETNS: h.netns }, encoding: 'utf8', timeout });
      return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    /** The same, without blocking (for hosts racing each other). */
    ctnetAsync(i, args) {
      const h = lab.hosts[i];
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [CTNET, ...args], { env: { ...process.env, CTNET_ROOT: h.root, CTNET_HOST_NETNS: h.netns } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    ok(i, args) {
      const r = o.ctnet(i, args);
      if (r.code !== 0) throw new Error(`ctnet ${args.join(' ')} on ${lab.hosts[i].name} exited ${r.code}: ${r.stderr}${o.storeLogs(i)}`);
      return r.stdout;
    },
    /** What explains a store that did not answer: the end of each etcd member's warnings and of host i's cluster agent log. */
    storeLogs(i) {
      const tail = (file) => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-8).join('\n') : '(none)');
      return [
        ...lab.hosts.map((h) => `\n--- etcd on ${h.name}:\n${tail(etcdLogPath(lab, h.name))}`),
        `\n--- cluster agent on ${lab.hosts[i].name}:\n${tail(join(lab.hosts[i].root, 'cluster.log'))}`,
      ].join('');
    },
    /** A probe (probe.js) from inside container `name` on host i: its network, its resolver. */
    probeFrom(i, name, target, port, protocol = 'tcp', ms = 2000) {
      const r = o.ctnet(i, ['exec', name, process.execPath, PROBE, protocol, target, String(port), String(ms)]);
      return r.code === 0 ? r.stdout.trim() : `failed: ${(r.stdout + r.stderr).trim()}`;
    },
    /** Kernel entries of host i's VXLAN device `dev`: routes through it, neighbours, FDB entries. */
    entries(i, dev) {
      const ns = lab.hosts[i].netns;
      const lines = (args) => spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      return {
        routes: lines(['route', 'show', 'dev', dev]).filter((l) => l.includes(' via ')),
        neighbours: lines(['neigh', 'show', 'dev', dev]),
        fdb: spawnSync('bridge', ['-n', ns, 'fdb', 'show', 'dev', dev], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(' dst ')),
      };
    },
    /** Whether host i's etcd member leads the cluster now (its loss then costs an election). */
    leads(i) {
      const h = lab.hosts[i];
      const r = spawnSync('ip', ['netns', 'exec', h.netns, 'etcdctl', '--endpoints', `http://${h.ip}:2379`, '--command-timeout=1s', 'endpoint', 'status', '--write-out=json'], { encoding: 'utf8' });
      const [status] = JSON.parse(r.stdout || '[]');
      return status !== undefined && status.Status.leader === status.Status.header.member_id;
    },
    /**
     * Host i's control plane dies as in a crash: its cluster agent and embedded DNS (with their
     * supervisors) and its etcd member are killed; its namespace, state and containers stay.
     */
    crashHost(i) {
      killProcessesMentioning(lab.hosts[i].root, /ctnet-(cluster|dns)\.mjs/);
      try { process.kill(-etcd[i].pid, 'SIGKILL'); } catch { /* gone */ }
    },
    restartEtcd(i) {
      etcd[i] = startEtcdMember(lab, i, 'existing');
    },
    close() {
      // Containers go as a user removes them (processes, namespaces, cgroups); what a failed test left
      // beyond that is killed and removed by hand.
      for (const i of lab.hosts.keys()) {
        const ids = o.ctnet(i, ['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
        if (ids.length) o.ctnet(i, ['rm', '-f', ...ids]);
      }
      killProcessesMentioning(lab.work);
      for (const h of lab.hosts) {
        for (const c of containersOf(h.root)) {
          if (c.netns) spawnSync('ip', ['netns', 'del', c.netns]);
          for (const dir of cgroupDirsOf(c.id)) try { rmdirSync(dir); } catch { /* gone, or busy */ }
        }
      }
      destroyOverlayLab(lab, etcd);
    },
  };
  try {
    await waitFor(() => etcdHealthy(lab), 'etcd members healthy', 20000);
  } catch (err) {
    o.close();
    throw err;
  }
  return o;
}

/** The containers a host's state names (a failed test may leave some running). */
function containersOf(root) {
  if (!existsSync(join(root, 'ctnet.db'))) return [];
  const db = new Database(join(root, 'ctnet.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, netns FROM containers').all();
  } finally {
    db.close();
  }
}

/** A container's cgroup directories, one per v1 hierarchy (or the v2 one). */
function cgroupDirsOf(id) {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, 'ctnet', id)).concat(join('/sys/fs/cgroup', 'ctnet', id)).filter(existsSync);
}

