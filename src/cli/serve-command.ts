import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { startServer } from '../serve/server.js';
import { engineOptions } from './env.js';

const DEFAULT_LISTEN = '127.0.0.1:7450';

function listenAddress(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-f:]+\]|[\w.-]+):(\d{1,5})$/i.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError(`--listen ${value} is not HOST:PORT, e.g. 127.0.0.1:7450 (port 0: any free one)`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve a JSON API, server-sent events and a live web view of networks and containers')
    .option('--listen <host:port>', 'HTTP address (keep it on loopback)', DEFAULT_LISTEN)
    .option('--socket <path>', 'unix socket serving the same API (default: ctnet.sock in CTNET_ROOT)')
    .option('--allow-changes', 'accept run, stop and rm requests carrying the token printed at start')
    .action(async (o) => {
      const listen = listenAddress(o.listen);
      const options = engineOptions();
      // Opened once up front: a missing dependency or no root fails here, in one line, not per request.
      new Engine(options).close();
      const server = await startServer({
        ...listen, allowChanges: o.allowChanges === true, socketPath: o.socket ?? join(options.root as string, 'ctnet.sock'),
        engine: () => new Engine(options),
      });
      process.stdout.write(`ctnet serve: ${server.url} (${server.token ? 'changes allowed with the token' : 'read-only'})\n`);
      process.stdout.write(`ctnet serve: unix socket ${server.socketPath}\n`);
      if (server.token) process.stdout.write(`ctnet serve: token ${server.token} (send it as Authorization: Bearer TOKEN)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await server.close();
    });
}
