import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { listenTcp, listenUnix } from '../listen.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { CtnetError, type ErrorCode } from '../errors.js';
import { topologySvg } from '../topology/svg.js';
import { EventHub, snapshotOf } from './events.js';
import { PAGE_HTML } from './page.js';

/**
 * `ctnet serve`: a JSON API over HTTP on a loopback address and on a unix socket, server-sent
 * events, and the web page. Every request gets an engine of its own (opened and closed with it), so
 * the server holds no namespace or socket of a container that goes away.
 */
export interface ServeOptions {
  host: string;
  port: number;
  socketPath: string;
  allowChanges: boolean;
  engine: () => Engine;
}

export interface RunningServer {
  url: string;
  socketPath: string;
  /** Present with --allow-changes: what a change request must send as `Authorization: Bearer TOKEN`. */
  token: string | undefined;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  CTNET_INVALID_ARGUMENT: 400, CTNET_NOT_FOUND: 404, CTNET_CONFLICT: 409, CTNET_PERMISSION: 403,
  CTNET_COMMAND_NOT_FOUND: 400, CTNET_COMMAND_NOT_EXECUTABLE: 400, CTNET_CONTAINER_SETUP: 500,
};

const RunBody = z.object({
  command: z.array(z.string()).min(1),
  name: z.string().optional(),
  network: z.string().optional(),
  publish: z.array(z.string()).optional(),
  env: z.array(z.string()).optional(),
  hostname: z.string().optional(),
}).strict();

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1 << 20) throw new HttpError(413, 'request body over 1 MiB');
  }
  try {
    return JSON.parse(body || '{}');
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body, null, 2) + '\n' : String(body);
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/** Requests through a loopback name only: a page elsewhere cannot reach the API by rebinding a DNS name to 127.0.0.1. */
function allowedHost(req: IncomingMessage, listenHost: string): boolean {
  if (req.socket.remoteFamily === undefined) return true; // the unix socket
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return ['localhost', '127.0.0.1', '::1', listenHost].includes(host);
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.allowChanges ? randomBytes(24).toString('hex') : undefined;
  const withEngine = async <T>(fn: (e: Engine) => T | Promise<T>): Promise<T> => {
    const e = opts.engine();
    try {
      return await fn(e);
    } finally {
      e.close();
    }
  };
  // The event stream reads the state four times a second: one engine while anyone listens (it only
  // reads the store, so it holds no namespace), not one per reading.
  let reader: Engine | undefined;
  const hub = new EventHub(() => {
    reader ??= opts.engine();
    return snapshotOf(reader.listContainers(true), reader.listNetworks());
  }, 250, () => {
    reader?.close();
    reader = undefined;
  });

  const requireChangeToken = (req: IncomingMessage): void => {
    if (!token) throw new HttpError(403, 'ctnet serve is read-only; start it with --allow-changes to change containers');
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, 'a change needs the token ctnet serve printed at start, as Authorization: Bearer TOKEN');
    }
  };

  type Route = [method: string, pattern: RegExp, handler: (req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray, url: URL) => Promise<void> | void];
  const routes: Route[] = [
    ['GET', /^\/$/, (_q, res) => send(res, 200, PAGE_HTML, 'text/html')],
    ['GET', /^\/api\/info$/, async (_q, res) => send(res, 200, { readOnly: !token })],
    ['GET', /^\/api\/networks$/, async (_q, res) => send(res, 200, await withEngine((e) => e.listNetworks()))],
    ['GET', /^\/api\/containers$/, async (_q, res, _m, url) => send(res, 200, await withEngine((e) => e.listContainers(url.searchParams.get('all') !== '0')))],
    ['GET', /^\/api\/containers\/([^/]+)$/, async (_q, res, m) => send(res, 200, await withEngine((e) => e.inspect(decodeURIComponent(m[1]))))],
    ['GET', /^\/api\/containers\/([^/]+)\/doctor$/, async (_q, res, m, url) =>
      send(res, 200, await withEngine((e) => e.doctor(decodeURIComponent(m[1]), url.searchParams.get('to') ?? undefined)))],
    ['GET', /^\/api\/ports$/, async (_q, res) => send(res, 200, await withEngine((e) => e.portCounters()))],
    ['GET', /^\/api\/topology$/, async (_q, res) => send(res, 200, await withEngine((e) => e.topology()))],
    ['GET', /^\/api\/topology\.svg$/, async (_q, res) => send(res, 200, (await topologySvg(await withEngine((e) => e.topology()))).svg, 'image/svg+xml')],
    ['GET', /^\/api\/events$/, (_q, res) => hub.add(res)],
    ['POST', /^\/api\/containers$/, async (req, res) => {
      requireChangeToken(req);
      const parsed = RunBody.safeParse(await readJson(req));
      if (!parsed.success) throw new HttpError(400, `invalid container: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
      const started = await withEngine(async (e) => {
        const { container, child } = e.run({ ...parsed.data, detach: true });
        if (child) await e.started(child);
        return container;
      });
      send(res, 201, { Id: started.id, Name: started.name });
    }],
    ['POST', /^\/api\/containers\/([^/]+)\/stop$/, async (req, res, m) => {
      requireChangeToken(req);
      await withEngine((e) => e.stop(decodeURIComponent(m[1])));
      send(res, 204, '', 'text/plain');
    }],
    ['DELETE', /^\/api\/containers\/([^/]+)$/, async (req, res, m) => {
      requireChangeToken(req);
      await withEngine((e) => e.remove([decodeURIComponent(m[1])], true));
      send(res, 204, '', 'text/plain');
    }],
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!allowedHost(req, opts.host)) throw new HttpError(403, 'requests must name a loopback host');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
      if (!matching.length) throw new HttpError(404, `no such path: ${url.pathname}`);
      const route = matching.find(([method]) => method === req.method);
      if (!route) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      await route[2](req, res, url.pathname.match(route[1]) as RegExpMatchArray, url);
    } catch (err) {
      if (res.headersSent) return void res.end();
      if (err instanceof HttpError) return send(res, err.status, { error: err.message });
      if (err instanceof CtnetError) return send(res, STATUS[err.code] ?? 500, { error: err.message, code: err.code });
      send(res, 500, { error: (err as Error).message });
    }
  };

  const tcp = createServer((q, r) => void handle(q, r));
  const unix = createServer((q, r) => void handle(q, r));
  await listenTcp(tcp, opts.host, opts.port);
  try {
    await listenUnix(unix, opts.socketPath);
  } catch (err) {
    tcp.close();
    throw err;
  }
  const address = tcp.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    socketPath: opts.socketPath,
    token,
    async close() {
      hub.close();
      for (const s of [tcp, unix]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      rmSync(opts.socketPath, { force: true });
    },
  };
}
