// The layers of docs/ARCHITECTURE.md, checked on every CI run (`npm run lint:layers`):
//   entry points (cli, cni, serve, demo, dns main)  ->  engine (use cases, doctor, topology model)
//   ->  planners (plan, firewall, ipam; pure)  ->  store  ->  kernel (the only side effects)
// with a few shared leaves everyone may use (errors.ts, names.ts, set-element.ts, crypto.ts, addr/: address values and math). A module may use its own
// layer and any layer below it; never one above, and no cycles anywhere.
const LAYERS = {
  entry: '^src/(cli|cni|serve|demo|index\\.ts|listen\\.ts)',
  engine: '^src/(engine|doctor|topology)/',
  planners: '^src/(plan|firewall|ipam)/',
  store: '^src/store/',
  kernel: '^src/kernel/',
};
const order = ['entry', 'engine', 'planners', 'store', 'kernel'];
const above = (layer) => order.slice(0, order.indexOf(layer)).map((l) => LAYERS[l]).join('|');

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...order.slice(1).map((layer) => ({
      name: `${layer}-not-upwards`,
      severity: 'error',
      comment: `${layer} is below ${order.slice(0, order.indexOf(layer)).join(', ')}: it must not import them.`,
      from: { path: LAYERS[layer] },
      to: { path: above(layer) },
    })),
    {
      name: 'leaves-stay-leaves',
      severity: 'error',
      comment: 'errors.ts, names.ts, set-element.ts, crypto.ts and addr/ are used by every layer, so they use none (addr/ may throw ctnet errors).',
      from: { path: '^src/(errors\\.ts|names\\.ts|set-element\\.ts|crypto\\.ts|addr/)' },
      to: { path: '^src/', pathNot: '^src/(errors\\.ts|addr/)' },
    },
    {
      name: 'pure-planners',
      severity: 'error',
      comment: 'Planners are pure: they return operations; only kernel/ touches the kernel, only store/ the database (its value types they share).',
      from: { path: LAYERS.planners },
      to: { path: `${LAYERS.kernel}|^src/store/(?!records\\.ts$)|^src/sandbox/(enter|script)` },
    },
    {
      name: 'side-effects-in-kernel',
      severity: 'error',
      comment: 'Netlink, nftables, sysctls, cgroupfs, /proc and spawning live in kernel/ (the FFI binding too).',
      from: { path: '^src/', pathNot: LAYERS.kernel },
      to: { path: '^node_modules/koffi' },
    },
    {
      name: 'spawning-in-kernel',
      severity: 'error',
      comment: 'Processes are started by kernel/ (spawn.ts, supervise.ts); the engine and the layers below it only hold the handles.',
      from: { path: `${LAYERS.engine}|${LAYERS.planners}|${LAYERS.store}` },
      to: { path: '^(node:)?child_process$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'files-in-kernel',
      severity: 'error',
      comment: "A container's files, cgroupfs and /proc are read and written through kernel/ (files.ts, cgroups.ts, proc.ts); the store keeps its own database files.",
      from: { path: `${LAYERS.engine}|${LAYERS.planners}` },
      to: { path: '^(node:)?fs$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cluster-through-the-store',
      severity: 'error',
      comment: 'etcd is reached by store/cluster.ts only (loaded on demand: the client takes ~0.2 s to load).',
      from: { path: '^src/', pathNot: LAYERS.store },
      to: { path: '^node_modules/etcd3', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'state-through-the-store',
      severity: 'error',
      comment: 'The database is opened and queried by store/ only (the DNS server reads state through it too).',
      from: { path: '^src/', pathNot: LAYERS.store },
      to: { path: '^node_modules/better-sqlite3' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // Type-only imports count: a layer that needs another's types depends on it.
    exclude: { path: '^src/.*\\.d\\.ts$' },
  },
};
