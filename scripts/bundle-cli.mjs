// Bundles the CLI (the CNI plugin's executable runs `ctnet cni`), the DNS server and the cluster agent, each into one file: loading ~30 modules one by one cost ~35 ms of every command's start.
// The native modules stay external; a `require` is provided for the CommonJS dependencies.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // better-sqlite3's JavaScript is bundled (its addon is loaded by path: src/store/sqlite.ts).
  external: ['koffi', 'etcd3'],
  banner: { js: "import { createRequire as __ctnetRequire } from 'node:module'; const require = __ctnetRequire(import.meta.url);" },
  logLevel: 'warning',
};

// commander requires node:child_process when it loads, for executable subcommands (ctnet has none):
// that module brings node:net and the streams, ~7 ms of every command's start. Its one use,
// childProcess.spawn, now loads it then.
const EAGER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(EAGER_CHILD_PROCESS)) throw new Error(`${args.path} no longer starts with ${EAGER_CHILD_PROCESS}: update scripts/bundle-cli.mjs`);
      return { contents: source.replace(EAGER_CHILD_PROCESS, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), loader: 'js' };
    });
  },
};

// The CLI is CommonJS so bin/ctnet can compile it through vm.Script with V8's code cache (Node 20 has
// no compile cache for ES modules); import.meta.url becomes the bundle's own URL.
await build({
  ...common,
  format: 'cjs',
  // bin/ctnet reads the bundle as latin1, which is only right for ASCII.
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  // The file is the function bin/ctnet calls: wrapped there, V8 made a flat copy of the ~430 KB
  // source before compiling it (~3 ms, on a machine where each new page costs ~20 us).
  banner: { js: "(function (exports, require, module, __filename, __dirname) {const __ctnetUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '\n})' },
  define: { 'import.meta.url': '__ctnetUrl' },
  // A script compiled through vm.Script has no loader for import() without --experimental-vm-modules
  // (Node 20: ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING at the call): what is loaded on demand (etcd3,
  // node:readline/promises) is required instead.
  supported: { 'dynamic-import': false },
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/ctnet.cjs',
  plugins: [lazyCommanderChildProcess],
});
if (/\bimport\(/.test(readFileSync('dist/cli/ctnet.cjs', 'latin1'))) throw new Error('dist/cli/ctnet.cjs calls import(), which fails in a script compiled by bin/ctnet: load it with require');
rmSync('dist/cli/ctnet.mjs', { force: true });
rmSync('dist/cni/ctnet-cni.mjs', { force: true });
await build({ ...common, entryPoints: ['src/dns/main.ts'], outfile: 'dist/cli/ctnet-dns.mjs' });
await build({ ...common, entryPoints: ['src/cli/cluster-agent-main.ts'], outfile: 'dist/cli/ctnet-cluster.mjs' });
// The container side (ctnet-init, ctnet-enter) is Perl, found beside the bundles (src/sandbox/script.ts).
copyFileSync('src/sandbox/ctnet-sandbox.pl', 'dist/cli/ctnet-sandbox.pl');
rmSync('dist/cli/ctnet-init.mjs', { force: true });
// The code cache of the CLI's bundle, made by running it once, and the commands' own ones, made at their first use (see bin/ctnet).
for (const f of readdirSync('dist/cli')) if (/^ctnet\.cjs\.(.+\.)?cache$/.test(f)) rmSync(`dist/cli/${f}`, { force: true });
execFileSync(process.execPath, ['bin/ctnet', '--version'], { env: { ...process.env, CTNET_MAKE_CODE_CACHE: '1' }, stdio: 'ignore' });
