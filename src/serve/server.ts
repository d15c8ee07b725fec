import { nodeCrypto, randomHex } from '../crypto.js';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { peerIsRoot } from '../kernel/libc.js';
import { listenTcp, listenUnix } from '../listen.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { CtnetError, type ErrorCode } from '../errors.js';
import { topologySvg } from '../topology/svg.js';
import { LayoutWorker } from './layout-worker.js';
import type { Topology } from '../topology/model.js';
import { EventHub, snapshotOf } from './events.js';
import { PAGE_HTML } from './page.js';

/**
 * `ctnet serve`: a JSON API on a unix socket and, when asked, over HTTP on a loopback address,
 * server-sent events, and the web page. The API shows containers' environments: every request needs
 * the token (Authorization: Bearer, or ?token= where a browser cannot set a header), except over the
 * unix socket from root (SO_PEERCRED). Changes need --allow-changes as well. Every request gets an
 * engine of its own (opened and closed with it), so the server holds no namespace or socket of a
 * container that goes away.
 */
export interface ServeOptions {
  /** HTTP only when given (--listen). */
  listen?: { host: string; port: number };
  socketPath: string;
  /** Where the token is kept for the user (mode 0600), and removed at close. */
  tokenFile: string;
  allowChanges: boolean;
  engine: () => Engine;
}

export interface RunningServer {
  /** The HTTP address, when it listens on one. */
  url: string | undefined;
  socketPath: string;
  token: string;
  tokenFile: string;
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

const viaUnixSocket = (req: IncomingMessage): boolean => req.socket.remoteFamily === undefined;

/** Requests through a loopback name only: a page elsewhere cannot reach the API by rebinding a DNS name to 127.0.0.1. */
function allowedHost(req: IncomingMessage, listenHost: string): boolean {
  if (viaUnixSocket(req)) return true;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return ['localhost', '127.0.0.1', '::1', listenHost].includes(host);
}

/** root at the other end of the unix socket (the socket is 0600, so nobody else gets this far anyway). */
function rootPeer(req: IncomingMessage): boolean {
  return viaUnixSocket(req) && peerIsRoot(req.socket);
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b);
}

type Route = [method: string, pattern: RegExp, handler: (req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray, url: URL) => Promise<void> | void];

interface RouteContext {
  withEngine: <T>(fn: (e: Engine) => T | Promise<T>) => Promise<T>;
  hub: EventHub;
  allowChanges: boolean;
  layout: LayoutWorker;
}

/** The page and the API: reads for everyone with the token, changes only with --allow-changes. */
function apiRoutes(c: RouteContext): Route[] {
  // The last topology drawn: a page draws again at every event, and every open page asks. Laying
  // it out takes 1.2-1.5 s with the most boxes a drawing has (measured), on a thread of its own so
  // the server answers meanwhile; a topology unchanged since is laid out once.
  let drawing: { key: string; svg: Promise<string> } | undefined;
  const drawn = (t: Topology): Promise<string> => {
    const key = JSON.stringify(t);
    if (drawing?.key !== key) {
      const svg = topologySvg(t, c.layout.layout).then((d) => d.svg);
      drawing = { key, svg };
      svg.catch(() => { if (drawing?.svg === svg) drawing = undefined; });
    }
    return drawing.svg;
  };
  const requireChanges = (): void => {
    if (!c.allowChanges) throw new HttpError(403, 'ctnet serve is read-only; start it with --allow-changes to change containers');
  };
  return [
    ['GET', /^\/$/, (_q, res) => send(res, 200, PAGE_HTML, 'text/html')],
    ['GET', /^\/api\/info$/, async (_q, res) => send(res, 200, { readOnly: !c.allowChanges })],
    ['GET', /^\/api\/networks$/, async (_q, res) => send(res, 200, await c.withEngine((e) => e.listNetworks()))],
    ['GET', /^\/api\/containers$/, async (_q, res, _m, url) => {
      const all = url.searchParams.get('all') !== '0';
      const view = url.searchParams.get('view');
      // ?view=listing: what `ps` shows (the page's table), without configurations and environments:
      // ~a third of the bytes, and no file read per container.
      if (view !== null && view !== 'listing') throw new HttpError(400, `view=${view} is not a view; use view=listing, or none for whole views`);
      send(res, 200, await c.withEngine((e) => (view === 'listing' ? e.listContainerListings(all) : e.listContainers(all))));
    }],
    ['GET', /^\/api\/containers\/([^/]+)$/, async (_q, res, m) => send(res, 200, await c.withEngine((e) => e.inspect(decodeURIComponent(m[1]))))],
    // The doctor probes from inside the container: it acts, so it is a POST.
    ['POST', /^\/api\/containers\/([^/]+)\/doctor$/, async (_q, res, m, url) =>
      send(res, 200, await c.withEngine((e) => e.doctor(decodeURIComponent(m[1]), url.searchParams.get('to') ?? undefined)))],
    ['GET', /^\/api\/ports$/, async (_q, res) => send(res, 200, await c.withEngine((e) => e.portCounters()))],
    ['GET', /^\/api\/topology$/, async (_q, res) => send(res, 200, await c.withEngine((e) => e.topology()))],
    ['GET', /^\/api\/topology\.svg$/, async (_q, res) => send(res, 200, await drawn(await c.withEngine((e) => e.topology())), 'image/svg+xml')],
    ['GET', /^\/api\/events$/, (_q, res) => c.hub.add(res)],
    ['POST', /^\/api\/containers$/, async (req, res) => {
      requireChanges();
      const parsed = RunBody.safeParse(await readJson(req));
      if (!parsed.success) throw new HttpError(400, `invalid container: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
      const started = await c.withEngine(async (e) => {
        const { container, child } = e.run({ ...parsed.data, detach: true });
        if (child) await e.started(child);
        return container;
      });
      send(res, 201, { Id: started.id, Name: started.name });
    }],
    ['POST', /^\/api\/containers\/([^/]+)\/stop$/, async (_q, res, m) => {
      requireChanges();
      await c.withEngine((e) => e.stop(decodeURIComponent(m[1])));
      send(res, 204, '', 'text/plain');
    }],
    ['DELETE', /^\/api\/containers\/([^/]+)$/, async (_q, res, m) => {
      requireChanges();
      await c.withEngine((e) => e.remove([decodeURIComponent(m[1])], true));
      send(res, 204, '', 'text/plain');
    }],
  ];
}

/** One request: the Host check, the token for /api/, the route, and errors as JSON with their status. */
function requestHandler(routes: Route[], authorize: (req: IncomingMessage, url: URL) => void, host: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!allowedHost(req, host)) throw new HttpError(403, 'requests must name a loopback host');
      const url = new URL(req.url ?? '/', 'http://localhost');
      // The page itself holds no data; everything under /api/ does.
      if (url.pathname.startsWith('/api/')) authorize(req, url);
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
}

/**
 * The event stream reads the state four times a second: one engine while anyone listens (it only
 * reads the store, so it holds no namespace), not one per reading.
 */
function stateEvents(engine: () => Engine): EventHub {
  let reader: Engine | undefined;
  return new EventHub(() => {
    reader ??= engine();
    const { containers, networks } = reader.overview();
    return snapshotOf(containers, networks);
  }, 250, () => {
    reader?.close();
    reader = undefined;
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = randomHex(24);
  writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(opts.tokenFile, 0o600);
  const withEngine = async <T>(fn: (e: Engine) => T | Promise<T>): Promise<T> => {
    const e = opts.engine();
    try {
      return await fn(e);
    } finally {
      e.close();
    }
  };
  const hub = stateEvents(opts.engine);

  /** Every API request: the token, or root over the unix socket. */
  const authorize = (req: IncomingMessage, url: URL): void => {
    if (rootPeer(req)) return;
    const given = (req.headers.authorization ?? '').replace(/^Bearer /, '') || url.searchParams.get('token') || '';
    if (!sameToken(given, token)) throw new HttpError(401, `the API needs the token in ${opts.tokenFile}, as Authorization: Bearer TOKEN`);
  };

  const layout = new LayoutWorker();
  const routes = apiRoutes({ withEngine, hub, allowChanges: opts.allowChanges === true, layout });

  const handle = requestHandler(routes, authorize, opts.listen?.host ?? '127.0.0.1');

  const unix = createServer((q, r) => void handle(q, r));
  const tcp = opts.listen ? createServer((q, r) => void handle(q, r)) : undefined;
  await listenUnix(unix, opts.socketPath);
  try {
    if (tcp && opts.listen) await listenTcp(tcp, opts.listen.host, opts.listen.port);
  } catch (err) {
    unix.close();
    rmSync(opts.socketPath, { force: true });
    throw err;
  }
  const address = tcp?.address() as AddressInfo | undefined;
  const host = address?.family === 'IPv6' ? `[${address.address}]` : address?.address;
  return {
    url: address ? `http://${host}:${address.port}/` : undefined,
    socketPath: opts.socketPath,
    token,
    tokenFile: opts.tokenFile,
    async close() {
      hub.close();
      await layout.close();
      for (const s of [tcp, unix]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      rmSync(opts.socketPath, { force: true });
      rmSync(opts.tokenFile, { force: true });
    },
  };
}
