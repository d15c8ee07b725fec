import { childProcess } from '../kernel/child-process.js';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CNI_ERROR, CniError } from './spec.js';
import { isIPv6 } from '../addr/family.js';

/** The address an IPAM plugin handed out, as ctnet needs it. */
export interface DelegatedAddress {
  ip: string;
  prefix: number;
  gateway?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** What a delegated plugin gets: this process's environment and the invocation's CNI_* variables, nothing else a caller sent. */
export const pluginEnv = (vars: Env, command: string): NodeJS.ProcessEnv => ({
  ...process.env,
  ...Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('CNI_'))),
  CNI_COMMAND: command,
});

function findPlugin(vars: Env, type: string): string {
  if (!/^[\w.-]+$/.test(type)) throw new CniError(CNI_ERROR.invalidConfig, `ipam type "${type}" is not a plugin name`);
  for (const dir of (vars.CNI_PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, type))) return join(dir, type);
  }
  throw new CniError(CNI_ERROR.invalidConfig, `IPAM plugin ${type} was not found in CNI_PATH (${vars.CNI_PATH ?? 'unset'}); install it or use "type": "host-local"`);
}

/**
 * Runs the configured IPAM plugin (any type but host-local, which ctnet serves itself) with the same
 * environment and configuration, as the spec says a main plugin delegates IPAM. Returns its result.
 */
export function delegateIpam(vars: Env, command: 'ADD' | 'DEL' | 'CHECK' | 'GC', type: string, stdin: string): Record<string, unknown> | undefined {
  const r = childProcess().spawnSync(findPlugin(vars, type), [], { input: stdin, env: pluginEnv(vars, command), encoding: 'utf8' });
  const out = r.stdout?.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  if (r.status !== 0) {
    const code = typeof out?.code === 'number' ? out.code : CNI_ERROR.other;
    throw new CniError(code, `IPAM plugin ${type} ${command} failed: ${(out?.msg as string) ?? r.stderr?.trim() ?? `exit ${r.status}`}`);
  }
  return out;
}

/** Whether the IPAM plugin speaks a spec version (GC exists from 1.1.0 on; older plugins are not asked). */
export function delegateSupports(vars: Env, type: string, version: string): boolean {
  const r = childProcess().spawnSync(findPlugin(vars, type), [], { input: JSON.stringify({ cniVersion: version }), env: pluginEnv(vars, 'VERSION'), encoding: 'utf8' });
  try {
    return ((JSON.parse(r.stdout) as { supportedVersions?: string[] }).supportedVersions ?? []).includes(version);
  } catch {
    return false;
  }
}

/** The first IPv4 address of an IPAM result (0.3.x-1.x shapes). */
export function firstIPv4(result: Record<string, unknown> | undefined, type: string): DelegatedAddress {
  const ips = (result?.ips ?? []) as { address?: string; gateway?: string }[];
  const v4 = ips.find((x) => x.address && !isIPv6(x.address));
  if (!v4?.address) throw new CniError(CNI_ERROR.other, `IPAM plugin ${type} returned no IPv4 address`);
  const [ip, prefix] = v4.address.split('/');
  return { ip, prefix: Number(prefix), gateway: v4.gateway };
}
