import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { engineOptions } from './env.js';
import { runInBackground } from './background.js';
import { writeOut } from './stdio.js';

function listenAddress(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-f:]+\]|[\w.-]+):(\d{1,5})$/i.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError(`--listen ${value} is not HOST:PORT, e.g. 127.0.0.1:7450 (port 0: any free one)`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve a JSON API, server-sent events and a live web view of networks and containers')
    .option('--listen <host:port>', 'also serve HTTP (the web view) on this address, e.g. 127.0.0.1:7450 (keep it on loopback)')
    .option('--socket <path>', 'unix socket serving the API (default: ctnet.sock in CTNET_ROOT)')
    .option('--allow-changes', 'accept run, stop and rm requests')
    .option('-d, --detach', 'run in the background under ctnet\'s supervisor (back within a second after any death); its PID goes to SOCKET.pid, its log to SOCKET.log')
    .action(async (o: { listen?: string; socket?: string; allowChanges?: boolean; detach?: boolean }) => {
      const listen = o.listen === undefined ? undefined : listenAddress(o.listen);
      const options = engineOptions();
      // Opened once up front: a missing dependency or no root fails here, in one line, not per request.
      new Engine(options).close();
      const socketPath: string = o.socket ?? join(options.root as string, 'ctnet.sock');
      if (o.detach) {
        const pid = await runInBackground('ctnet serve', socketPath, `${socketPath}.pid`, `${socketPath}.log`);
        writeOut(`ctnet serve: unix socket ${socketPath} in the background (supervisor PID ${pid}; the API token is in ${socketPath.replace(/\.sock$/, '')}.token); stop it with: kill ${pid}\n`);
        return;
      }
      // Loaded here: the server and node:http (nine built-in modules) are this command's alone, not every command's.
      const { startServer } = await import('../serve/server.js');
      const server = await startServer({
        // The token beside its socket: two servers (two sockets) never share one.
        listen, allowChanges: o.allowChanges === true, socketPath, tokenFile: `${socketPath.replace(/\.sock$/, '')}.token`,
        engine: () => new Engine(options),
      });
      const mode = o.allowChanges ? 'changes allowed' : 'read-only';
      writeOut(`ctnet serve: unix socket ${server.socketPath} (${mode}; root needs no token there)\n`);
      // The token only to a terminal: a service's log keeps what it prints.
      const tokenShown = process.stdout.isTTY === true;
      if (server.url) writeOut(`ctnet serve: ${tokenShown ? `${server.url}#token=${server.token}` : server.url}\n`);
      writeOut(`ctnet serve: the API token is in ${server.tokenFile} (send it as Authorization: Bearer TOKEN${server.url ? '; open the page as URL#token=TOKEN' : ''})\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await server.close();
    });
}
