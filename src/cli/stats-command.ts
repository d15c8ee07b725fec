import type { Command } from 'commander';
import { withEngine } from './engine-scope.js';
import { table } from './output.js';
import { cpuPercent, type StatsSample } from '../engine/stats.js';
import { writeOut } from './stdio.js';

const INTERVAL_MS = 1000;

function bytes(n: number | null): string {
  if (n === null) return '--';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}

const percent = (n: number | null): string => (n === null ? '--' : `${n.toFixed(2)}%`);

interface Row extends StatsSample {
  CPUPerc: number | null;
  MemPerc: number | null;
}

function rowsOf(now: StatsSample[], before: Map<string, StatsSample>): Row[] {
  return now.map((s) => ({ ...s, CPUPerc: cpuPercent(before.get(s.Id), s), MemPerc: s.MemUsage === null ? null : (s.MemUsage / s.MemLimit) * 100 }));
}

function tableOf(rows: Row[]): string {
  return table(
    ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'PIDS'],
    rows.map((r) => [r.Id.slice(0, 12), r.Name, percent(r.CPUPerc), `${bytes(r.MemUsage)} / ${bytes(r.MemLimit)}`, percent(r.MemPerc), `${bytes(r.NetRx)} / ${bytes(r.NetTx)}`, r.Pids === null ? '--' : String(r.Pids)]),
  );
}

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('Show CPU, memory, network and process use of running containers, every second')
    .argument('[names...]', 'container names or IDs (default: every running container)')
    .option('--no-stream', 'print one sample and exit')
    .option('--json', 'print one JSON line per container and sample')
    .action(async (names: string[], o: { stream: boolean; json?: boolean }) => {
      await withEngine({}, async (e) => {
        const terminal = process.stdout.isTTY === true && !o.json;
        let before = new Map(e.stats(names).map((s) => [s.Id, s]));
        let stop = false;
        const quit = (): void => void (stop = true);
        process.once('SIGINT', quit);
        process.once('SIGTERM', quit);
        try {
          while (!stop) {
            await new Promise((r) => setTimeout(r, INTERVAL_MS));
            const now = e.stats(names);
            const rows = rowsOf(now, before);
            if (o.json) writeOut(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
            else writeOut((terminal ? '\x1b[H\x1b[2J' : '') + tableOf(rows));
            before = new Map(now.map((s) => [s.Id, s]));
            if (!o.stream) break;
          }
        } finally {
          process.off('SIGINT', quit);
          process.off('SIGTERM', quit);
        }
      });
    });
}
