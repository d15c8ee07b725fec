// The host's interface sysctls go through directories held open (a look-up from /proc/sys walks
// every namespace's entries): what is written through them must be the opening namespace's, from
// whatever namespace the thread is in later. Container namespaces' go through a proc instance of
// the process's own: what is written through it must be the calling thread's namespace's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath, openNetns, closeNetns, withNetns } from '../../dist/kernel/netns.js';
import { PrivateProcSys, SysctlDirs, readSysctl, writeSysctl } from '../../dist/kernel/sysctl.js';

const ip = (...args) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('sysctls through held directories land in the namespace that opened them, not the caller\'s', () => {
  const tag = randomBytes(3).toString('hex');
  const [owner, other] = [`ctt-sd-${tag}-a`, `ctt-sd-${tag}-b`];
  const dirs = new SysctlDirs();
  const handles = [];
  try {
    for (const ns of [owner, other]) {
      createNamedNetns(ns);
      handles.push(openNetns(netnsPath(ns)));
    }
    ip('-n', owner, 'link', 'add', 'sda', 'type', 'veth', 'peer', 'name', 'sdb');
    const key = 'net/ipv6/conf/sda/disable_ipv6';
    assert.equal(withNetns(handles[0], () => readSysctl(key, dirs)), '0');
    assert.match(dirs.pathOf(key), /^\/proc\/self\/fd\/\d+\/sda\/disable_ipv6$/);
    assert.equal(dirs.pathOf('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');

    // From the other namespace: through the held directory the owner's interface is found and set...
    withNetns(handles[1], () => writeSysctl(key, '1', dirs));
    assert.equal(ip('netns', 'exec', owner, 'sysctl', '-n', 'net.ipv6.conf.sda.disable_ipv6').trim(), '1');
    // ...while the plain path resolves in the caller's namespace, which has no such interface (the control).
    assert.equal(withNetns(handles[1], () => readSysctl(key)), undefined);
    assert.throws(() => withNetns(handles[1], () => writeSysctl(key, '0')), /ENOENT/);
    assert.equal(ip('netns', 'exec', owner, 'sysctl', '-n', 'net.ipv6.conf.sda.disable_ipv6').trim(), '1');
  } finally {
    dirs.close();
    for (const h of handles) closeNetns(h);
    for (const ns of [owner, other]) {
      try {
        deleteNamedNetns(ns);
      } catch {
        // not created
      }
    }
  }
});

test('container namespaces\' sysctls through a private proc instance: each lands in the calling thread\'s namespace, nothing is mounted, the instance is renewed without leaking', () => {
  const tag = randomBytes(3).toString('hex');
  const names = [0, 1, 2].map((i) => `ctt-sp-${tag}-${i}`);
  const procMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - proc /.test(l));
  const before = procMounts();
  const proc = new PrivateProcSys();
  const handles = [];
  try {
    for (const ns of names) {
      createNamedNetns(ns);
      handles.push(openNetns(netnsPath(ns)));
      ip('-n', ns, 'link', 'add', 'sda', 'type', 'veth', 'peer', 'name', 'sdb');
    }
    const key = 'net/ipv6/conf/sda/disable_ipv6';
    assert.match(proc.pathOf(key), /^\/proc\/self\/fd\/\d+\/sys\/net\/ipv6\/conf\/sda\/disable_ipv6$/);
    // The middle namespace only: the others keep the default.
    withNetns(handles[1], () => writeSysctl(key, '1', proc));
    assert.deepEqual(names.map((ns) => ip('netns', 'exec', ns, 'sysctl', '-n', 'net.ipv6.conf.sda.disable_ipv6').trim()), ['0', '1', '0']);
    assert.equal(withNetns(handles[2], () => readSysctl(key, proc)), '0');
    assert.deepEqual(procMounts(), before, 'the instance is mounted nowhere');

    // Renewed every 32 look-ups, the old instance closed: a long-lived engine holds one at a time.
    const fds = () => readdirSync('/proc/self/fd').length;
    const open = fds();
    for (let i = 0; i < 100; i++) withNetns(handles[i % 3], () => readSysctl(key, proc));
    assert.ok(fds() <= open, `${fds() - open} more descriptors after 100 keys`);
    assert.equal(withNetns(handles[1], () => readSysctl(key, proc)), '1');
  } finally {
    proc.close();
    for (const h of handles) closeNetns(h);
    for (const ns of names) {
      try {
        deleteNamedNetns(ns);
      } catch {
        // not created
      }
    }
  }
});
