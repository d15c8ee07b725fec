// A command's nf_tables sockets are let go of without waiting for the kernel's clean-up (see
// src/kernel/netfilter-release.ts): a holder process takes copies, this process closes its own,
// and the holder, now the last, ends by itself. What the sockets changed stays applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath, openNetns, closeNetns, withNetns } from '../../dist/kernel/netns.js';
import { Nft } from '../../dist/kernel/nft.js';
import { NetlinkSocket } from '../../dist/kernel/netlink/socket.js';
import { NETLINK_NETFILTER } from '../../dist/kernel/netlink/nft-elements.js';
import { closeNetfilterSockets } from '../../dist/kernel/netfilter-release.js';

const linkOf = (pid, fd) => {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
};

/** The processes other than this one holding every one of `sockets` (socket:[inode] links). */
function holdersOf(sockets) {
  const holders = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    let links;
    try {
      links = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => linkOf(pid, fd)));
    } catch {
      continue; // ended
    }
    if (sockets.every((s) => links.has(s))) holders.push(Number(pid));
  }
  return holders;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a committed nf_tables socket is closed here and released by a holder that ends by itself; the change stays', async () => {
  const ns = `ctt-nfr-${randomBytes(3).toString('hex')}`;
  createNamedNetns(ns);
  const handle = openNetns(netnsPath(ns));
  try {
    const { nft, socket } = withNetns(handle, () => ({ nft: new Nft(), socket: new NetlinkSocket(NETLINK_NETFILTER) }));
    nft.run('add table inet ctt_release');
    assert.equal(nft.sockets.length, 1, 'the libnftables context\'s socket was found');
    const fds = [...nft.sockets, socket.fd];
    const sockets = fds.map((fd) => linkOf('self', fd));
    for (const s of sockets) assert.match(s, /^socket:\[\d+\]$/);

    let holder;
    closeNetfilterSockets(fds, () => {
      const holders = holdersOf(sockets);
      assert.equal(holders.length, 1, `one holder has both sockets before ours close: ${holders}`);
      [holder] = holders;
      assert.equal(readFileSync(`/proc/${holder}/comm`, 'utf8').trim(), 'cat');
      nft.close();
      socket.close();
      for (const [i, fd] of fds.entries()) assert.notEqual(linkOf('self', fd), sockets[i], 'this process\'s copy is closed');
      assert.deepEqual(holdersOf(sockets), [holder], 'the holder\'s copies are the last');
    });
    // Its input ended with the call: it ends, and is collected, without anything else to do.
    for (let i = 0; i < 100 && alive(holder); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(holder), false, `the holder (PID ${holder}) ended`);
    assert.deepEqual(holdersOf(sockets), []);

    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' });
    assert.match(r.stdout, /table inet ctt_release/);
  } finally {
    closeNetns(handle);
    deleteNamedNetns(ns);
  }
});
