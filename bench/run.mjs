#!/usr/bin/env node
// npm run bench [-- --quick] [-- --json]: ctnet against the reference CNI chain and netavark, in
// throwaway namespaces; writes bench/results/latest.json and the attach plot (and, for a full run,
// docs/PERFORMANCE.md). Needs root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchAttach } from './lib/attach.mjs';
import { benchCli } from './lib/cli.mjs';
import { benchCri } from './lib/cri.mjs';
import { benchOverlay } from './lib/overlay.mjs';
import { benchScale } from './lib/scale.mjs';
import { benchDatapath } from './lib/datapath.mjs';
import { benchDns } from './lib/dns.mjs';
import { deleteAllNetns } from './lib/netns.mjs';
import { BenchInterrupted, interrupt, interrupted } from './lib/interrupt.mjs';
import { machine, markdown, scaleSvg, svg, table, targets } from './lib/report.mjs';
import { round } from './lib/stats.mjs';
import { terminalProgress } from '../dist/cli/progress.js';

const args = new Set(process.argv.slice(2));
// --report: render the table and docs again from bench/results/latest.json, without measuring.
if (args.has('--report')) {
  const { readFileSync } = await import('node:fs');
  const r = JSON.parse(readFileSync(fileURLToPath(new URL('./results/latest.json', import.meta.url)), 'utf8'));
  const { writeFileSync: write } = await import('node:fs');
  if (!r.quick) {
    write(fileURLToPath(new URL('../docs/attach-latency.svg', import.meta.url)), svg(r));
    if (r.scale) write(fileURLToPath(new URL('../docs/scale.svg', import.meta.url)), scaleSvg(r));
    write(fileURLToPath(new URL('../docs/PERFORMANCE.md', import.meta.url)), markdown(r, 'attach-latency.svg'));
  }
  process.stdout.write(table(r) + '\n' + targets(r).map((x) => `${x[2].padEnd(7)} ${x[0]}: ${x[1]}`).join('\n') + '\n');
  process.exit(0);
}
// Every Node process the bench starts (the CLI in the overlay's and the scale's parts too) starts
// as on a machine without NODE_EXTRA_CA_CERTS: see lib/node-env.mjs.
delete process.env.NODE_EXTRA_CA_CERTS;
const quick = args.has('--quick');
const asJson = args.has('--json');
const log = (line) => { if (!asJson) process.stderr.write(`${line}\n`); };
const path = (p) => fileURLToPath(new URL(p, import.meta.url));

const PLAN = quick
  ? { attach: { sizes: [1, 100, 1000], refSizes: [1], iterations: 8, ctnetIterations: 24 }, cli: { iterations: 5 }, datapath: { seconds: 0.8, rounds: 1, throughputRounds: 1, portmapMany: 0 }, dns: { names: 1000, queries: 20000, concurrency: 32, rounds: 5 }, cri: { iterations: 5, warmup: 1 }, overlay: { iterations: 5, seconds: 1, throughputRounds: 1 }, scale: null }
  : { attach: { sizes: [1, 100, 1000], refSizes: [1, 100], iterations: 40 }, cli: { iterations: 25 }, datapath: { seconds: 4, rounds: 3, throughputRounds: 7 }, dns: { names: 1000, queries: 50000, concurrency: 32, rounds: 9 }, cri: { iterations: 20, warmup: 3 }, overlay: { iterations: 20, seconds: 3, throughputRounds: 7 }, scale: { total: 10000, networks: 11, checkpoints: [1, 1000, 2500, 5000, 10000], samples: 20, sleeping: 1000 } };

if (process.getuid() !== 0) {
  process.stderr.write('ctnet bench: error: the bench creates network namespaces and needs root; run it with sudo\n');
  process.exit(5);
}

const started = Date.now();
let r;
// The first signal stops the bench at its next step, where every part removes what it made; a
// second one stops it at once, with only the bench's own namespaces removed.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (!interrupted()) {
      interrupt(sig);
      process.stderr.write(`ctnet bench: ${sig}: stopping at the next step and removing what the bench made (${sig} again: stop now)\n`);
      return;
    }
    deleteAllNetns();
    process.exit(130);
  });
}
try {
  log(`ctnet bench (${quick ? 'quick' : 'full'})`);
  // Each part's wall time, in the log and the JSON: the quick run must stay under two minutes.
  const sections = {};
  const timed = async (name, fn) => {
    const t0 = Date.now();
    const out = await fn();
    sections[name] = (Date.now() - t0) / 1000;
    log(`  (${name}: ${sections[name].toFixed(1)} s)`);
    return out;
  };
  log('attach/detach:');
  const attach = await timed('attach', () => benchAttach(PLAN.attach, log, asJson ? undefined : terminalProgress(process.stderr)));
  attach.skippedSizes = `References were measured at ${PLAN.attach.refSizes.join(' and ')} attached containers; at ${PLAN.attach.sizes.filter((s) => !PLAN.attach.refSizes.includes(s)).join(', ')} they were not run: filling them takes minutes (${Math.round(attach.results.cni?.[0]?.attach.p50 ?? 0)} ms per CNI ADD).`;
  log('CLI:');
  const cli = await timed('cli', () => benchCli(PLAN.cli, log));
  log('data path:');
  const datapath = await timed('datapath', () => benchDatapath(PLAN.datapath, log));
  const dns = await timed('dns', () => benchDns(PLAN.dns, log));
  const cri = await timed('cri', () => benchCri(PLAN.cri, log));
  const overlay = await timed('overlay', () => benchOverlay(PLAN.overlay, log));
  // Only in the full run: filling 10,000 containers takes minutes.
  if (PLAN.scale) log(`${PLAN.scale.total} containers on one host:`);
  const scale = PLAN.scale ? await timed('scale', () => benchScale(PLAN.scale, log, asJson ? undefined : terminalProgress(process.stderr))) : null;
  r = { date: new Date().toISOString(), quick, plan: PLAN, machine: machine(), attach, cli, datapath, dns, cri, overlay, scale, sections, seconds: (Date.now() - started) / 1000 };
} catch (err) {
  // A signal also reaches a command the bench was running (same process group), which then fails:
  // its handler runs at the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  if (!(err instanceof BenchInterrupted) && !interrupted()) throw err;
  deleteAllNetns();
  process.stderr.write(`ctnet bench: interrupted by ${interrupted() ?? 'a signal'}; what it made was removed\n`);
  process.exit(130);
} finally {
  deleteAllNetns();
}

const at = (impl, size) => r.attach.results[impl]?.find((x) => x.size === size);
const summaryJson = {
  attach_p50_ms: round(at('ctnet', 1).attach.p50, 3),
  detach_p50_ms: round(at('ctnet', 1).detach.p50, 3),
  attach_p95_ms: round(at('ctnet', 1).attach.p95, 3),
  ...Object.fromEntries(r.attach.results.ctnet.filter((x) => x.size > 1).flatMap((x) => [[`attach_p50_ms_at_${x.size}`, round(x.attach.p50, 3)], [`detach_p50_ms_at_${x.size}`, round(x.detach.p50, 3)]])),
  ...Object.fromEntries((r.attach.results['ctnet-ipv6'] ?? []).flatMap((x) => [[`dual_stack_attach_p50_ms_at_${x.size}`, round(x.attach.p50, 3)], [`dual_stack_detach_p50_ms_at_${x.size}`, round(x.detach.p50, 3)]])),
  kernel_floor_attach_p50_ms: round(r.attach.floor?.attach.p50, 3),
  kernel_floor_detach_p50_ms: round(r.attach.floor?.detach.p50, 3),
  floor_pass_attach_p50_ms: round(r.attach.floor?.ctnet?.attach.p50, 3),
  floor_pass_detach_p50_ms: round(r.attach.floor?.ctnet?.detach.p50, 3),
  ...(r.attach.growth ? {
    [`growth_pass_attach_p50_ms_at_${r.attach.growth.size}`]: round(r.attach.growth.atSize.attach.p50, 3),
    growth_pass_attach_p50_ms_at_1: round(r.attach.growth.atOne.attach.p50, 3),
    [`growth_pass_detach_p50_ms_at_${r.attach.growth.size}`]: round(r.attach.growth.atSize.detach.p50, 3),
    growth_pass_detach_p50_ms_at_1: round(r.attach.growth.atOne.detach.p50, 3),
  } : {}),
  ref_cni_add_p50_ms: round(at('cni', 1)?.attach.p50, 2),
  ref_cni_del_p50_ms: round(at('cni', 1)?.detach.p50, 2),
  netavark_setup_p50_ms: round(at('netavark', 1)?.attach.p50, 2),
  netavark_teardown_p50_ms: round(at('netavark', 1)?.detach.p50, 2),
  ctnet_cni_add_p50_ms: round(at('ctnet-cni', 1)?.attach.p50, 2),
  ctnet_cni_del_p50_ms: round(at('ctnet-cni', 1)?.detach.p50, 2),
  ctnet_cni_daemon_add_p50_ms: round(at('ctnet-cni-daemon', 1)?.attach.p50, 2),
  ctnet_cni_daemon_del_p50_ms: round(at('ctnet-cni-daemon', 1)?.detach.p50, 2),
  cli_run_p50_ms: round(r.cli.run.p50, 1),
  cli_rm_p50_ms: round(r.cli.rm.p50, 1),
  node_startup_p50_ms: round(r.cli.node.p50, 1),
  cli_peak_rss_mib: round(r.cli.peakRssMiB, 1),
  cli_run_privileged_p50_ms: round(r.cli.runPrivileged.p50, 1),
  dnat_conn_per_s_10_ports: round(r.datapath.ctnet.connPerSec10, 0),
  dnat_conn_per_s_10000_ports: round(r.datapath.ctnet.connPerSec10000, 0),
  portmap_conn_per_s_10_ports: round(r.datapath.portmap?.connPerSec10, 0),
  portmap_conn_per_s_1000_ports: round(r.datapath.portmap?.connPerSec1000, 0),
  container_to_container_gbps: round(r.datapath.throughput?.containerToContainerGbps, 2),
  container_to_container_no_br_netfilter_gbps: round(r.datapath.throughput?.containerToContainerNoBrNetfilterGbps, 2),
  bare_veth_gbps: round(r.datapath.throughput?.bareVethGbps, 2),
  plain_bridge_gbps: round(r.datapath.throughput?.plainBridgeGbps, 2),
  plain_bridge_no_br_netfilter_gbps: round(r.datapath.throughput?.plainBridgeNoBrNetfilterGbps, 2),
  published_port_gbps: round(r.datapath.ctnet.publishedThroughputGbps, 2),
  dns_qps_1000_names: r.dns.ctnet?.qps ?? null,
  dns_p99_ms_1000_names: round(r.dns.ctnet?.p99_ms, 2),
  aardvark_dns_qps: r.dns.aardvark?.qps ?? null,
  aardvark_dns_p99_ms: round(r.dns.aardvark?.p99_ms, 2),
  cri_run_pod_sandbox_cni_share_p50_ms: round(r.cri.ctnet?.cniShareP50, 1),
  ref_cri_run_pod_sandbox_cni_share_p50_ms: round(r.cri.reference?.cniShareP50, 1),
  cri_run_pod_sandbox_p50_ms: round(r.cri.ctnet?.network.p50, 1),
  ref_cri_run_pod_sandbox_p50_ms: round(r.cri.reference?.network.p50, 1),
  cri_host_network_pod_p50_ms: round(r.cri.ctnet?.hostNetwork.p50, 1),
  overlay_run_to_resolvable_p50_ms: round(r.overlay.runToResolvable?.p50, 1),
  overlay_run_to_resolvable_p95_ms: round(r.overlay.runToResolvable?.p95, 1),
  overlay_run_to_reachable_p50_ms: round(r.overlay.runToReachable?.p50, 1),
  overlay_run_to_reachable_p95_ms: round(r.overlay.runToReachable?.p95, 1),
  overlay_block_lease_p50_ms: round(r.overlay.blockLease?.p50, 1),
  overlay_cross_host_gbps: round(r.overlay.overlayGbps, 2),
  plain_vxlan_gbps: round(r.overlay.plainVxlanGbps, 2),
  scale_containers: r.scale?.points.at(-1)?.containers ?? null,
  scale_attach_p50_ms: round(r.scale?.points.at(-1)?.attach.p50, 3),
  scale_detach_p50_ms: round(r.scale?.points.at(-1)?.detach.p50, 3),
  scale_ps_ms: round(r.scale?.points.at(-1)?.psMs, 0),
  scale_network_ls_ms: round(r.scale?.points.at(-1)?.networkLsMs, 0),
  scale_run_ms: round(r.scale?.points.at(-1)?.runMs, 0),
  scale_rm_ms: round(r.scale?.points.at(-1)?.rmMs, 0),
  scale_state_mib: round(r.scale ? r.scale.points.at(-1).stateBytes / 2 ** 20 : null, 1),
  scale_sleeping_containers: r.scale?.sleeping?.containers ?? null,
  scale_sleeping_ps_ms: round(r.scale?.sleeping?.psMs, 0),
  scale_sleeping_run_ms: round(r.scale?.sleeping?.runMs, 0),
  scale_sleeping_rm_ms: round(r.scale?.sleeping?.rmMs, 0),
  section_seconds: Object.fromEntries(Object.entries(r.sections).map(([k, v]) => [k, round(v, 1)])),
  seconds: round(r.seconds, 1),
};
r.summary = summaryJson;

mkdirSync(path('./results'), { recursive: true });
writeFileSync(path('./results/latest.json'), JSON.stringify(r, null, 2) + '\n');
writeFileSync(path('./results/attach-latency.svg'), svg(r));
if (!quick) {
  writeFileSync(path('../docs/attach-latency.svg'), svg(r));
  if (r.scale) writeFileSync(path('../docs/scale.svg'), scaleSvg(r));
  writeFileSync(path('../docs/PERFORMANCE.md'), markdown(r, 'attach-latency.svg'));
}
if (asJson) process.stdout.write(JSON.stringify(summaryJson) + '\n');
else {
  process.stdout.write(`\n${table(r)}\n`);
  process.stdout.write(targets(r).map((x) => `${x[2].padEnd(7)} ${x[0]}: ${x[1]}`).join('\n') + '\n\n');
  process.stdout.write(`wrote bench/results/latest.json, bench/results/attach-latency.svg${quick ? '' : ', docs/PERFORMANCE.md'} (${r.seconds.toFixed(0)} s)\n`);
  for (const s of [...r.attach.skipped, ...r.datapath.skipped, ...(r.cri?.skipped ?? []), ...(r.overlay?.skipped ?? [])]) process.stdout.write(`skipped: ${s}\n`);
}
