import { InvalidArgumentError } from '../errors.js';
import { IFNAME_MAX } from '../names.js';

/** Input checks shared by use cases; each failure names the problem and the fix. */

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateName(kind: 'network' | 'container' | 'host', name: string): string {
  if (!NAME_RE.test(name) || name.length > 63) {
    throw new InvalidArgumentError(`invalid ${kind} name "${name}": use up to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

/** --network-alias: a DNS name of letters, digits, '-' and '.', as the embedded DNS will answer it. */
export function validateAlias(alias: string): string {
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(alias) || alias.length > 253) {
    throw new InvalidArgumentError(`invalid --network-alias "${alias}": use DNS labels of letters, digits and '-', joined by '.'`);
  }
  return alias.toLowerCase();
}

export function validateIfname(name: string, flag: string): string {
  if (name.length > IFNAME_MAX) {
    throw new InvalidArgumentError(`${flag} ${name} is ${name.length} characters; Linux interface names have at most ${IFNAME_MAX}`);
  }
  if (!/^[a-zA-Z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError(`${flag} "${name}" is not a valid interface name; use letters, digits, '_', '.' or '-'`);
  }
  return name;
}

export function validateMtu(mtu: number | undefined): number | undefined {
  if (mtu === undefined) return undefined;
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError(`--mtu ${mtu} is outside 68-65535; the usual value is 1500`);
  return mtu;
}

const DNS_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function validateHostname(h: string, flag = '--hostname'): string {
  // 64: the kernel's limit for both UTS names.
  if (!DNS_NAME.test(h) || h.length > 64) throw new InvalidArgumentError(`invalid ${flag} "${h}": use letters, digits and '-', labels joined by '.' (at most 64 characters)`);
  return h;
}

/** An environment variable's name, as -e and --env-file take it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (!ENV_NAME.test(key)) throw new InvalidArgumentError(`invalid -e "${e}": expected KEY=VALUE with KEY made of letters, digits and '_'`);
    // Like docker, `-e KEY` alone passes the caller's value through.
    const value = eq < 0 ? process.env[key] : e.slice(eq + 1);
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * An --env-file's lines as -e entries, Docker's format: KEY=VALUE (the value as it stands, quotes
 * and spaces included), KEY alone for the caller's value, blank lines and # comments skipped.
 */
export function parseEnvFile(text: string, file: string): string[] {
  const entries: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (!ENV_NAME.test(key)) {
      throw new InvalidArgumentError(`--env-file ${file}, line ${i + 1}: "${key}" is not a variable name (letters, digits and '_'); write KEY=VALUE`);
    }
    entries.push(eq < 0 ? key : `${key}=${line.slice(eq + 1)}`);
  });
  return entries;
}

/** --mac-address: a unicast, locally or globally administered MAC (not all zeros), in lower case. */
export function validateMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m)) throw new InvalidArgumentError(`invalid --mac-address "${mac}": expected six hex bytes such as 02:42:ac:11:00:02`);
  if (parseInt(m.slice(0, 2), 16) & 1) throw new InvalidArgumentError(`--mac-address ${mac} is a multicast address; use a unicast one (first byte even, e.g. 02:...)`);
  if (m === '00:00:00:00:00:00') throw new InvalidArgumentError('--mac-address 00:00:00:00:00:00 is not a usable address; pick another');
  return m;
}
