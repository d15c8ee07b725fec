// Which cgroup hierarchies ctnet uses, found at systemd's mount points without reading mountinfo,
// and from mountinfo where a host mounts them elsewhere: both must agree where both can answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cgroupLayout, layoutAtStandardPlaces, layoutFromMountinfo, systemCgroupFiles } from '../../dist/kernel/cgroups.js';

const CGROUP = 0x27e0eb, CGROUP2 = 0x63677270, TMPFS = 0x1021994;

/** A host as its files show it: statfs types by path, and file texts. */
const host = (types, texts) => ({ fsType: (p) => types[p], read: (p) => texts[p] ?? '' });

const mountinfoOf = (mounts) => mounts.map(([point, fstype, options], i) => `${30 + i} 23 0:${28 + i} / ${point} rw,relatime - ${fstype} ${fstype} rw,${options}`).join('\n');

const hybrid = {
  cgroup: '9:name=systemd:/\n8:pids:/\n5:devices:/\n4:memory:/a\n3:cpu,cpuacct:/\n2:cpuset:/\n0::/\n',
  mounts: [['/sys/fs/cgroup', 'tmpfs', 'mode=755'], ['/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'cpu,cpuacct'], ['/sys/fs/cgroup/cpuset', 'cgroup', 'cpuset'], ['/sys/fs/cgroup/memory', 'cgroup', 'memory'],
    ['/sys/fs/cgroup/devices', 'cgroup', 'devices'], ['/sys/fs/cgroup/pids', 'cgroup', 'pids'], ['/sys/fs/cgroup/systemd', 'cgroup', 'name=systemd'], ['/sys/fs/cgroup/unified', 'cgroup2', '']],
  types: { '/sys/fs/cgroup': TMPFS, '/sys/fs/cgroup/cpu,cpuacct': CGROUP, '/sys/fs/cgroup/cpuset': CGROUP, '/sys/fs/cgroup/memory': CGROUP, '/sys/fs/cgroup/devices': CGROUP, '/sys/fs/cgroup/pids': CGROUP, '/sys/fs/cgroup/systemd': CGROUP, '/sys/fs/cgroup/unified': CGROUP2 },
};

test('a hybrid host (v1 controllers, co-mounted cpu,cpuacct, an empty unified tree): v1 at the standard places, as mountinfo says', () => {
  const files = host(hybrid.types, { '/proc/self/cgroup': hybrid.cgroup, '/sys/fs/cgroup/unified/cgroup.controllers': '' });
  const roots = { pids: '/sys/fs/cgroup/pids', devices: '/sys/fs/cgroup/devices', memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', cpuset: '/sys/fs/cgroup/cpuset' };
  assert.deepEqual(layoutAtStandardPlaces(files), { version: 1, roots });
  // Mountinfo lists the hierarchies in mount order.
  assert.deepEqual(layoutFromMountinfo(mountinfoOf(hybrid.mounts), files), { version: 1, roots });
});

test('a unified host with the memory controller: v2 at /sys/fs/cgroup', () => {
  const files = host({ '/sys/fs/cgroup': CGROUP2 }, { '/proc/self/cgroup': '0::/user.slice\n', '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n' });
  assert.deepEqual(layoutAtStandardPlaces(files), { version: 2, roots: { unified: '/sys/fs/cgroup' } });
  assert.deepEqual(layoutFromMountinfo(mountinfoOf([['/sys/fs/cgroup', 'cgroup2', 'nsdelegate']]), files), { version: 2, roots: { unified: '/sys/fs/cgroup' } });
  // Without the memory controller and with no v1 hierarchy there is nothing ctnet can use.
  const bare = host({ '/sys/fs/cgroup': CGROUP2 }, { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cgroup.controllers': 'cpu pids\n' });
  assert.equal(layoutAtStandardPlaces(bare), null);
});

test('hierarchies mounted elsewhere, or a standard place that is not a cgroup file system: no answer, mountinfo decides', () => {
  const cgroup = { '/proc/self/cgroup': '4:memory:/\n3:pids:/\n' };
  // memory mounted at /cg/memory only.
  assert.equal(layoutAtStandardPlaces(host({ '/sys/fs/cgroup/pids': CGROUP, '/sys/fs/cgroup/memory': undefined }, cgroup)), undefined);
  // A plain directory where memory's mount would be.
  assert.equal(layoutAtStandardPlaces(host({ '/sys/fs/cgroup/pids': CGROUP, '/sys/fs/cgroup/memory': TMPFS }, cgroup)), undefined);
  // A unified hierarchy the process is in, mounted at neither standard place.
  assert.equal(layoutAtStandardPlaces(host({ '/sys/fs/cgroup': TMPFS, '/sys/fs/cgroup/pids': CGROUP }, { '/proc/self/cgroup': '3:pids:/\n0::/\n' })), undefined);
  // No /proc/self/cgroup to go by.
  assert.equal(layoutAtStandardPlaces(host({}, {})), undefined);
  const files = host({}, {});
  assert.deepEqual(layoutFromMountinfo(mountinfoOf([['/cg/memory', 'cgroup', 'memory'], ['/cg/pids', 'cgroup', 'pids']]), files), { version: 1, roots: { memory: '/cg/memory', pids: '/cg/pids' } });
});

test('on this machine both ways find the same hierarchies', () => {
  const fromMountinfo = layoutFromMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'), systemCgroupFiles);
  const standard = layoutAtStandardPlaces(systemCgroupFiles);
  // This project's machines mount them where systemd does; elsewhere mountinfo answers alone.
  if (standard !== undefined) assert.deepEqual(standard, fromMountinfo);
  assert.deepEqual(cgroupLayout(), fromMountinfo);
});
