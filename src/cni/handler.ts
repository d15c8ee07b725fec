import { isAbsolute } from 'node:path';
import { cniAdd, cniCheck, cniDel, cniGc, cniStatus } from '../engine/cni.js';
import { ensureCniOverlay } from '../engine/overlay.js';
import { cniBandwidth } from '../engine/bandwidth.js';
import { EngineContext, stepFromEnv } from '../engine/context.js';
import { CtnetError } from '../errors.js';
import { DEFAULT_ROOT } from '../names.js';
import { checkVersion, isDelegatedIpam, networkSpec, parseCniArgs, parseNetConf, portRequests, type NetConf } from './config.js';
import { delegateIpam, delegateSupports, firstIPv4 } from './delegate.js';
import type { EnginePool, PoolOptions } from './engines.js';
import { addResult } from './result.js';
import { CNI_ERROR, CniError, LATEST, SUPPORTED_VERSIONS, atLeast, type CniVersion } from './spec.js';

/**
 * ctnet as a CNI plugin (type "ctnet"): a drop-in for bridge + host-local + portmap. Speaks the
 * execution protocol: CNI_* environment variables, the network configuration on stdin, the result
 * or a spec error as JSON on stdout. One invocation is `handleCni(environment, stdin)`, run by the
 * executable itself or, for a runtime's requests forwarded by the small client, by `ctnet cni-daemon`.
 */
export type CniEnv = Readonly<Record<string, string | undefined>>;

export interface CniOutcome {
  stdout: string;
  exitCode: number;
}

class Invocation {
  constructor(
    readonly vars: CniEnv,
    private readonly engines?: EnginePool,
  ) {}

  env(name: string): string | undefined {
    return this.vars[name] || undefined;
  }

  required(name: string): string {
    const v = this.env(name);
    if (!v) throw new CniError(CNI_ERROR.invalidEnvironment, `${name} is not set; the runtime must set it for ${this.env('CNI_COMMAND')}`);
    return v;
  }

  /** Runs `fn` with the engine for this configuration: closed after it, or kept for the next invocation by the daemon's pool. */
  withEngine<T>(conf: NetConf, fn: (ctx: EngineContext) => T): T {
    const options = this.engineOptions(conf);
    const ctx = this.open(options);
    let succeeded = false;
    try {
      const out = fn(ctx);
      succeeded = true;
      return out;
    } finally {
      this.done(ctx, options, succeeded);
    }
  }

  async withEngineAsync<T>(conf: NetConf, fn: (ctx: EngineContext) => Promise<T>): Promise<T> {
    const options = this.engineOptions(conf);
    const ctx = this.open(options);
    let succeeded = false;
    try {
      const out = await fn(ctx);
      succeeded = true;
      return out;
    } finally {
      this.done(ctx, options, succeeded);
    }
  }

  private open(options: PoolOptions): EngineContext {
    return this.engines ? this.engines.take(options) : new EngineContext(options);
  }

  private done(ctx: EngineContext, options: PoolOptions, succeeded: boolean): void {
    if (this.engines) this.engines.give(ctx, options, succeeded);
    else ctx.close();
  }

  private engineOptions(conf: NetConf): PoolOptions {
    // host-local's dataDir holds the state; otherwise the CLI's, so both see the same containers.
    const dataDir = conf.ipam?.dataDir;
    if (dataDir && !isAbsolute(dataDir)) {
      throw new CniError(CNI_ERROR.invalidConfig, `ipam.dataDir ${dataDir} is not an absolute path (it would depend on the runtime's working directory); give one such as /var/lib/cni/networks`);
    }
    return {
      root: conf.ipam?.dataDir || this.env('CTNET_ROOT') || DEFAULT_ROOT,
      hostNetns: this.env('CTNET_HOST_NETNS') ?? null,
      // The process's own environment, not the request's: a runtime cannot make the daemon kill itself.
      crashAt: stepFromEnv('CTNET_CRASH_AT'),
    };
  }
}

/** The version the configuration asks for, for VERSION and for errors (the latest when unreadable). */
function requestedVersion(stdin: string): string {
  try {
    return (JSON.parse(stdin) as { cniVersion?: string }).cniVersion || LATEST;
  } catch {
    return LATEST;
  }
}

function requestedIp(inv: Invocation, conf: NetConf): string | undefined {
  const fromCaps = conf.runtimeConfig?.ips?.[0];
  const fromArgs = parseCniArgs(inv.env('CNI_ARGS')).IP;
  return (fromCaps ?? fromArgs)?.split('/')[0];
}

async function run(inv: Invocation, command: string, stdin: string): Promise<unknown> {
  const { vars } = inv;
  const required = (name: string): string => inv.required(name);
  const withEngine = <T>(conf: NetConf, fn: (ctx: EngineContext) => T): T => inv.withEngine(conf, fn);
  if (command === 'VERSION') return { cniVersion: requestedVersion(stdin), supportedVersions: SUPPORTED_VERSIONS };
  const conf = parseNetConf(stdin, command === 'DEL' || command === 'GC');
  const version: CniVersion = checkVersion(conf);
  const needs = (min: string): void => {
    if (!atLeast(version, min)) throw new CniError(CNI_ERROR.incompatibleVersion, `${command} needs cniVersion ${min} or later; the configuration says ${version}`);
  };
  switch (command) {
    case 'ADD': {
      const args = parseCniArgs(inv.env('CNI_ARGS'));
      const target = { containerId: required('CNI_CONTAINERID'), netnsPath: required('CNI_NETNS'), ifname: required('CNI_IFNAME'), mac: conf.runtimeConfig?.mac ?? args.MAC, bandwidth: cniBandwidth(conf.runtimeConfig?.bandwidth) };
      const delegated = isDelegatedIpam(conf) ? firstIPv4(delegateIpam(vars, 'ADD', conf.ipam!.type, stdin), conf.ipam!.type) : undefined;
      try {
        const spec = networkSpec(conf, delegated);
        // An overlay: the node joins the cluster and makes its part of the network on its first ADD (etcd is needed then only).
        if (conf.overlay) await inv.withEngineAsync(conf, (ctx) => ensureCniOverlay(ctx, spec.name, spec.subnet, conf.overlay!, { dns: false, ipMasq: spec.ipMasq, blockDirect: spec.blockDirect }));
        return withEngine(conf, (ctx) => addResult(version, cniAdd(ctx, spec, target, portRequests(conf), delegated?.ip ?? requestedIp(inv, conf)), conf.prevResult));
      } catch (err) {
        // Give the delegated address back: nothing of this ADD stays.
        if (delegated) try { delegateIpam(vars, 'DEL', conf.ipam!.type, stdin); } catch { /* reported by the ADD error */ }
        throw err;
      }
    }
    case 'DEL': {
      withEngine(conf, (ctx) => cniDel(ctx, conf.name, required('CNI_CONTAINERID'), required('CNI_IFNAME')));
      if (isDelegatedIpam(conf)) delegateIpam(vars, 'DEL', conf.ipam!.type, stdin);
      return undefined;
    }
    case 'CHECK': {
      needs('0.4.0');
      if (!conf.prevResult) throw new CniError(CNI_ERROR.invalidConfig, 'CHECK needs prevResult in the configuration');
      withEngine(conf, (ctx) => cniCheck(ctx, conf.name, required('CNI_CONTAINERID'), required('CNI_IFNAME')));
      // The delegated IPAM plugin checks its own part, as the spec asks of a main plugin.
      if (isDelegatedIpam(conf)) delegateIpam(vars, 'CHECK', conf.ipam!.type, stdin);
      return undefined;
    }
    case 'STATUS': {
      needs('1.1.0');
      if (process.getuid?.() !== 0) throw new CniError(CNI_ERROR.notAvailable, 'the ctnet plugin needs root to change network namespaces');
      const reason = withEngine(conf, (ctx) => cniStatus(ctx, networkSpec(conf)));
      if (reason) throw new CniError(CNI_ERROR.notAvailable, reason);
      return undefined;
    }
    case 'GC': {
      needs('1.1.0');
      const valid = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'] ?? [];
      withEngine(conf, (ctx) => cniGc(ctx, conf.name, valid));
      // A delegated IPAM plugin that knows GC releases what it holds for attachments that are gone.
      if (isDelegatedIpam(conf) && delegateSupports(vars, conf.ipam!.type, '1.1.0')) delegateIpam(vars, 'GC', conf.ipam!.type, stdin);
      return undefined;
    }
    default:
      throw new CniError(CNI_ERROR.invalidEnvironment, `CNI_COMMAND=${command} is not one of ADD, DEL, CHECK, STATUS, GC, VERSION`);
  }
}

function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof CtnetError) return new CniError(err.cniCode, err.message);
  return new CniError(CNI_ERROR.other, (err as Error)?.message ?? String(err));
}

/**
 * One CNI invocation: the runtime's environment and stdin in, what goes to stdout and the exit code
 * out. With `engines` (the daemon's) its engine may be one an earlier invocation opened, and is kept.
 */
export async function handleCni(vars: CniEnv, stdin: string, engines?: EnginePool): Promise<CniOutcome> {
  const inv = new Invocation(vars, engines);
  const command = inv.env('CNI_COMMAND') ?? '';
  const version = requestedVersion(stdin);
  try {
    if (!command) throw new CniError(CNI_ERROR.invalidEnvironment, 'CNI_COMMAND is not set; this is a CNI plugin, run by a container runtime');
    const out = await run(inv, command, stdin);
    return { stdout: out !== undefined ? JSON.stringify(out) + '\n' : '', exitCode: 0 };
  } catch (err) {
    const e = toCniError(err);
    return { stdout: JSON.stringify({ cniVersion: version, code: e.code, msg: e.message, ...(e.details ? { details: e.details } : {}) }) + '\n', exitCode: 1 };
  }
}
