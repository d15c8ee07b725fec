import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { DEFAULT_CNI_SOCKET, startCniDaemon } from '../cni/daemon.js';
import { runInBackground } from './background.js';

export function registerCniDaemonCommand(program: Command): void {
  program
    .command('cni-daemon')
    .description("Serve the CNI plugin's ADD, DEL, CHECK, STATUS and GC over a unix socket, so bin/cni/ctnet answers without starting Node each time")
    .option('--socket <path>', 'unix socket the plugin connects to (the plugin reads CTNET_CNI_SOCKET)', process.env.CTNET_CNI_SOCKET || DEFAULT_CNI_SOCKET)
    .option('--verbose', 'log each invocation to stderr')
    .option('-d, --detach', 'run in the background under ctnet\'s supervisor (back within a second after any death); its PID goes to SOCKET.pid, its log to SOCKET.log')
    .action(async (o: { socket: string; verbose?: boolean; detach?: boolean }) => {
      if (o.detach) {
        const pid = await runInBackground('ctnet cni-daemon', o.socket, `${o.socket}.pid`, `${o.socket}.log`);
        process.stdout.write(`ctnet cni-daemon: serving ${o.socket} in the background (supervisor PID ${pid}); stop it with: kill ${pid}\n`);
        return;
      }
      const log = o.verbose ? (line: string) => void process.stderr.write(`${new Date().toISOString()} ${line}\n`) : undefined;
      const server = await startCniDaemon(o.socket, log);
      process.stdout.write(`ctnet cni-daemon: serving ${o.socket}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await new Promise((r) => server.close(r));
      rmSync(o.socket, { force: true });
    });
}
