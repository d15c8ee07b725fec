// containerd's CRI as a CNI client, the way kubelet drives it: a containerd started in a private
// mount namespace inside a lab "host" network namespace (never the machine's), an image built from
// busybox-static (no registry here), and a small gRPC client for the CRI calls kubelet makes.
// Facts this depends on are in ../shared/notes/podman-cni.md (containerd's section).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { ROOT_DIR, killProcessesMentioning } from './lab.mjs';

export { killProcessesMentioning };

export const IMAGE = 'ctnet.test/busybox:1';
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'httpd', 'wget', 'timeout', 'hostname', 'cat', 'ip', 'echo', 'printf'];

/** What is missing on this machine for the CRI test, or undefined. */
export function criMissing() {
  const need = { containerd: '/usr/bin/containerd', ctr: '/usr/bin/ctr', runc: '/usr/sbin/runc', 'busybox-static': BUSYBOX, 'CNI loopback': '/usr/lib/cni/loopback' };
  const missing = Object.entries(need).filter(([, p]) => !existsSync(p)).map(([n]) => n);
  if (existsSync(BUSYBOX) && spawnSync('ldd', [BUSYBOX], { encoding: 'utf8' }).stdout?.includes('=>')) missing.push('a static busybox (busybox-static)');
  return missing.length ? `${missing.join(', ')} not installed (apt-get install -y containerd runc busybox-static containernetworking-plugins)` : undefined;
}

/**
 * A one-layer OCI image archive: busybox with a few applets, and an HTTP server's document root whose
 * CGI answers "<pod hostname> from <client address>" (so tests see the source address a pod saw).
 */
export function buildImage(work) {
  const root = join(work, 'image-root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'www', 'cgi-bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp', 'run']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'www', 'cgi-bin', 'who'), [
    '#!/bin/sh',
    'printf "Content-Type: text/plain\\r\\n\\r\\n"',
    'a=${REMOTE_ADDR#[::ffff:}', // httpd listens on :: and shows IPv4 clients as mapped addresses
    'echo "$(hostname) from ${a%]}"',
    '',
  ].join('\n'), { mode: 0o755 });

  const layout = join(work, 'image-oci');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerTar = join(work, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', root, '-cf', layerTar, '.']);
  const blob = (bytes) => {
    const digest = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const layer = blob(readFileSync(layerTar));
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sleep', '2147483647'] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  })));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': IMAGE, 'org.opencontainers.image.ref.name': '1' },
    }],
  }));
  const archive = join(work, 'image.tar');
  execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
  return archive;
}

/** The CNI plugin folder containerd 1.6 takes (one bin_dir): ctnet's plugin and the reference plugins. */
function cniBinDir(work) {
  const dir = join(work, 'cni-bin');
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(ROOT_DIR, 'bin', 'cni', 'ctnet'), join(dir, 'ctnet'));
  for (const p of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', p), join(dir, p));
  return dir;
}

function configToml(work, cniBin, confDir) {
  return `version = 2
root = "${work}/root"
state = "${work}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${work}/containerd.sock"
[ttrpc]
  address = "${work}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${work}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBin}"
    conf_dir = "${confDir}"
    max_conf_num = 1
`;
}

/**
 * containerd with the CRI plugin, running in `hostNs` in a mount namespace of its own: /run is a
 * tmpfs there (shim sockets, runc's state), with /run/netns bound back in so the lab's namespaces stay
 * visible. `env` reaches every CNI plugin containerd runs (it passes its environment on).
 * Resolves with { cri, ctr(args), cgroupParent, stop() }.
 */
export async function startContainerd({ work, hostNs, conflist, env = {} }) {
  mkdirSync(work, { recursive: true });
  const confDir = join(work, 'net.d');
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, `10-${conflist.name}.conflist`), JSON.stringify(conflist, null, 2));
  const configPath = join(work, 'config.toml');
  writeFileSync(configPath, configToml(work, cniBinDir(work), confDir));
  mkdirSync(join(work, 'netns-view'), { recursive: true });
  const inner = [
    'set -e',
    `mount --rbind /run/netns ${work}/netns-view`,
    'mount -t tmpfs -o mode=755 tmpfs /run',
    `mkdir /run/netns && mount --rbind ${work}/netns-view /run/netns`,
    `exec containerd --config ${configPath} --log-level warn`,
  ].join('\n');
  const log = join(work, 'containerd.log');
  const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', inner], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19)); });
  const socket = join(work, 'containerd.sock');
  const cri = criClient(socket);
  const stop = async () => {
    cri.close();
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
    writeFileSync(log, stderr);
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`containerd exited at start: ${stderr.slice(-2000)}`);
    if (existsSync(socket)) {
      try {
        await cri.call('Version', { version: 'v1' });
        const ctr = (args) => execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', ...args], { encoding: 'utf8', timeout: 60000 });
        return { cri, ctr, stop, log: () => stderr };
      } catch { /* not serving yet */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`containerd did not answer on ${socket} within 10 s: ${stderr.slice(-2000)}`);
}

/** RuntimeService over containerd's socket; `call(method, request)` resolves with the response. */
export function criClient(socket) {
  const definition = protoLoader.loadSync(join(ROOT_DIR, 'test', 'fixtures', 'cri', 'runtime-v1.proto'), { keepCase: true, longs: Number, enums: String, defaults: true });
  const { RuntimeService } = grpc.loadPackageDefinition(definition).runtime.v1;
  const client = new RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    call(method, request, timeoutMs = 60000) {
      return new Promise((resolve, reject) => {
        client[method](request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(new Error(`CRI ${method}: ${err.details || err.message}`)) : resolve(res)));
      });
    },
    close: () => client.close(),
  };
}

/** Sandbox config kubelet would send for a pod, in the cgroup parent the caller removes afterwards. */
export function podConfig(name, { cgroupParent, ports = [], hostNetwork = false } = {}) {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: hostNetwork ? '' : name,
    port_mappings: ports.map(([host_port, container_port]) => ({ protocol: 'TCP', container_port, host_port, host_ip: '' })),
    labels: { app: name },
    linux: { cgroup_parent: cgroupParent, security_context: { namespace_options: { network: hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

/** Removes the cgroup folders runc made under `parent` in every v1 hierarchy, killing what a failed run left in them. */
export function removeCgroups(parent) {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', h, parent);
    if (!existsSync(top) || !statSync(top).isDirectory()) continue;
    const dirs = [];
    const walk = (d) => { dirs.push(d); for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name)); };
    walk(top);
    for (const d of dirs) {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    for (const d of dirs.reverse()) {
      for (let i = 0; i < 50; i++) {
        try { rmdirSync(d); break; } catch { execFileSync('sleep', ['0.02']); } // the killed may take a moment to leave
      }
    }
  }
}
