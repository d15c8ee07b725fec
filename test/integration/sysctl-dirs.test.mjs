// The host's interface sysctls go through directories held open (a look-up from /proc/sys walks
// every namespace's entries): what is written through them must be the opening namespace's, from
// whatever namespace the thread is in later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath, openNetns, closeNetns, withNetns } from '../../dist/kernel/netns.js';
import { SysctlDirs, readSysctl, writeSysctl } from '../../dist/kernel/sysctl.js';

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
