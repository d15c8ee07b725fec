import { InvalidArgumentError as CommanderArgError, type Command } from 'commander';
import { rmSync } from 'node:fs';
import { DEFAULT_CNI_SOCKET } from '../names.js';
import { runInBackground } from './background.js';
import { writeOut, writeErr } from './stdio.js';

/** A parser of whole seconds, `min` or more. */
const seconds = (min: number) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new CommanderArgError(`expected a whole number of seconds, ${min} or more.`);
  return Number(value);
};

export function registerCniDaemonCommand(program: Command): void {
  program
    .command('cni-daemon')
    .description("Serve the CNI plugin's ADD, DEL, CHECK, STATUS and GC over a unix socket, so bin/cni/ctnet answers without starting Node each time")
    .option('--socket <path>', 'unix socket the plugin connects to (the plugin reads CTNET_CNI_SOCKET)', process.env.CTNET_CNI_SOCKET || DEFAULT_CNI_SOCKET)
    .option('--verbose', 'log each invocation to stderr')
    .option('-d, --detach', 'run in the background under ctnet\'s supervisor (back within a second after any death); its PID goes to SOCKET.pid, its log to SOCKET.log')
    .option('--idle-exit <seconds>', 'exit (cleanly: the supervisor does not restart it) after this many seconds without an invocation', seconds(1))
    .option('--keep-engines <seconds>', 'keep the engines invocations opened (the state, the kernel sockets) for the next ones while they come; closed after this many seconds without one (0: close after each)', seconds(0), 10)
    .option('--auto', 'as the plugin starts it when none answers: in the background, quiet when one already runs, --idle-exit 600 unless given')
    .action(async (o: { socket: string; verbose?: boolean; detach?: boolean; idleExit?: number; auto?: boolean; keepEngines: number }) => {
      if (o.detach || o.auto) {
        const pid = await runInBackground('ctnet cni-daemon', o.socket, `${o.socket}.pid`, `${o.socket}.log`, o.auto === true);
        if (!o.auto) writeOut(`ctnet cni-daemon: serving ${o.socket} in the background (supervisor PID ${pid}); stop it with: kill ${pid}\n`);
        return;
      }
      const log = o.verbose ? (line: string) => void writeErr(`${new Date().toISOString()} ${line}\n`) : undefined;
      let idled = (): void => {};
      const idle = o.idleExit !== undefined ? { ms: o.idleExit * 1000, then: () => idled() } : undefined;
      // Loaded here: the server brings node:net, which no other command needs at its start.
      const { startCniDaemon } = await import('../cni/daemon.js');
      const server = await startCniDaemon(o.socket, log, idle, o.keepEngines * 1000);
      writeOut(`ctnet cni-daemon: serving ${o.socket}\n`);
      await new Promise<void>((resolve) => {
        idled = () => {
          log?.(`no invocation for ${o.idleExit} s; exiting`);
          resolve();
        };
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await new Promise((r) => server.close(r));
      rmSync(o.socket, { force: true });
    });
}
