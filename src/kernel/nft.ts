import { constants as osConstants } from 'node:os';
import { koffi } from './koffi.js';
import { DependencyMissingError, KernelError, NftError } from '../errors.js';
import { withSignalsBlocked } from './libc.js';
import { netfilterSocketsSince, openDescriptors } from './netfilter-release.js';
import { batchBegin, batchEnd, getChainQuery, getSetElementQuery, getSetQuery, getTableQuery, setElementMessages, type NftQuery } from './netlink/nft-elements.js';
import type { SetElement } from '../set-element.js';
import type { NetlinkSocket } from './netlink/socket.js';

const { ENOENT } = osConstants.errno;
const isMissing = (err: unknown): boolean => err instanceof NftError && err.errno === ENOENT;

/** libnftables, in-process. Each context keeps a netlink socket in the namespace it was created in. */
interface NftLib {
  ctxNew(flags: number): unknown;
  ctxFree(ctx: unknown): void;
  bufferOutput(ctx: unknown): number;
  bufferError(ctx: unknown): number;
  setOutputFlags(ctx: unknown, flags: number): void;
  run(ctx: unknown, cmd: string): number;
  output(ctx: unknown): string;
  error(ctx: unknown): string;
}

const NFT_CTX_OUTPUT_JSON = 1 << 4;
let lib: NftLib | undefined;

export const LIBNFTABLES_INSTALL_HINT = 'install it with: apt-get install -y nftables';

function load(): NftLib {
  if (lib) return lib;
  const path = process.env.CTNET_LIBNFTABLES || 'libnftables.so.1';
  let l: ReturnType<ReturnType<typeof koffi>['load']>;
  try {
    l = koffi().load(path);
  } catch {
    throw new DependencyMissingError(`libnftables (${path}) is not available; ${LIBNFTABLES_INSTALL_HINT}`);
  }
  lib = {
    ctxNew: l.func('void *nft_ctx_new(uint32_t flags)'),
    ctxFree: l.func('void nft_ctx_free(void *ctx)'),
    bufferOutput: l.func('int nft_ctx_buffer_output(void *ctx)'),
    bufferError: l.func('int nft_ctx_buffer_error(void *ctx)'),
    setOutputFlags: l.func('void nft_ctx_output_set_flags(void *ctx, unsigned int flags)'),
    run: l.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)'),
    output: l.func('const char *nft_ctx_get_output_buffer(void *ctx)'),
    error: l.func('const char *nft_ctx_get_error_buffer(void *ctx)'),
  } as NftLib;
  return lib;
}

/** Fails early, before any change, when libnftables cannot be loaded. */
export function requireLibnftables(): void {
  load();
}

export class Nft {
  private readonly ctx: unknown;
  private readonly lib: NftLib;
  /** The netlink socket its context opened (none if libnftables opens it later): see closeNetfilterSockets. */
  readonly sockets: readonly number[];

  /** Create it inside the target namespace (`withNetns`). */
  constructor() {
    this.lib = load();
    const before = openDescriptors();
    this.ctx = this.lib.ctxNew(0);
    this.sockets = netfilterSocketsSince(before);
    this.lib.bufferOutput(this.ctx);
    this.lib.bufferError(this.ctx);
  }

  /** Applies a script as one atomic transaction. */
  run(script: string): void {
    if (withSignalsBlocked(() => this.lib.run(this.ctx, script)) !== 0) {
      const message = (this.lib.error(this.ctx) || 'unknown error').split('\n')[0];
      // libnftables reports only text: its wording for ENOENT is the one classification made here.
      throw new NftError(`nftables rejected the change: ${message}`, /No such file or directory/.test(message) ? ENOENT : undefined);
    }
  }

  /** Runs a listing command and returns its text (or JSON text with `json`). */
  list(command: string, json = false): string {
    this.lib.setOutputFlags(this.ctx, json ? NFT_CTX_OUTPUT_JSON : 0);
    try {
      if (withSignalsBlocked(() => this.lib.run(this.ctx, command)) !== 0) {
        const message = (this.lib.error(this.ctx) || '').split('\n')[0];
        throw new KernelError(`nftables listing failed: ${message}`);
      }
      return this.lib.output(this.ctx) ?? '';
    } finally {
      this.lib.setOutputFlags(this.ctx, 0);
    }
  }

  close(): void {
    this.lib.ctxFree(this.ctx);
  }
}

/**
 * Adds or deletes set and map elements in one nf_tables transaction over `socket` (NETLINK_NETFILTER,
 * opened in the host namespace). With `missingOk` (a delete), elements already gone are skipped: the
 * transaction fails whole on one, so it is retried element by element.
 */
export function changeSetElements(socket: NetlinkSocket, verb: 'add' | 'delete', elements: readonly SetElement[], missingOk = false): void {
  const send = (es: readonly SetElement[]): void => {
    try {
      socket.batch(setElementMessages(verb, es), batchBegin, batchEnd);
    } catch (err) {
      if (err instanceof KernelError && !(err instanceof NftError)) {
        throw new NftError(`nftables rejected the change: ${err.message}`, err.errno);
      }
      throw err;
    }
  };
  try {
    send(elements);
    return;
  } catch (err) {
    if (!missingOk || !isMissing(err)) throw err;
  }
  for (const e of elements) {
    try {
      send([e]);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

/**
 * Whether the kernel holds an element with this key in its set or map: true or false, or undefined
 * when the set itself is missing. The kernel is asked for that one element: libnftables reads the
 * whole set first (60-80 ms for one of 10,000 elements).
 */
export function hasSetElement(socket: NetlinkSocket, e: SetElement): boolean | undefined {
  const where = `${e.family} ${e.table} ${e.set}`;
  if (answers(socket, getSetElementQuery(e), `looking up an element of ${where}`)) return true;
  return answers(socket, getSetQuery(e), `looking up ${where}`) ? false : undefined;
}

/** Whether the kernel has this table (libnftables' `list tables` reads every set's elements first: ~190 ms at 10,000 containers). */
export function hasTable(socket: NetlinkSocket, family: SetElement['family'], table: string): boolean {
  return answers(socket, getTableQuery(family, table), `looking up table ${family} ${table}`);
}

/** Whether the kernel has this chain (false also when its table is missing). */
export function hasChain(socket: NetlinkSocket, family: SetElement['family'], table: string, chain: string): boolean {
  return answers(socket, getChainQuery(family, table, chain), `looking up chain ${family} ${table} ${chain}`);
}

/** Whether the kernel answers a query with what it asks for (false: ENOENT). */
function answers(socket: NetlinkSocket, q: NftQuery, what: string): boolean {
  try {
    socket.get(q.type, q.body, false, what);
    return true;
  } catch (err) {
    if (err instanceof KernelError && err.errno === ENOENT) return false;
    throw err;
  }
}
