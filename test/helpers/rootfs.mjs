import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * A directory root for --rootfs tests: a few host programs with the libraries ldd names for them,
 * and an /etc/passwd with a user "app" (1000:1000). No package manager or network needed.
 */
export function makeRootfs(programs = ['sh', 'ls', 'cat', 'id', 'ps', 'touch', 'sleep', 'hostname', 'tr', 'head']) {
  const root = mkdtempSync(join(tmpdir(), 'ctnet-rootfs-'));
  chmodSync(root, 0o755); // mkdtemp's 0700 would keep every user but root out of /
  const copy = (path) => {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    copyFileSync(path, join(root, path));
  };
  for (const name of programs) {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    copy(path);
    for (const lib of execFileSync('ldd', [path], { encoding: 'utf8' }).matchAll(/(\/\S+)/g)) copy(lib[1]);
  }
  // Debian's merged /usr: /bin is /usr/bin.
  if (!existsSync(join(root, 'bin'))) symlinkSync('usr/bin', join(root, 'bin'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
  writeFileSync(join(root, 'marker'), 'inside the rootfs\n');
  return root;
}
