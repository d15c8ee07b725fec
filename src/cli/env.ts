import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine/context.js';
import { DEFAULT_ROOT } from '../names.js';
import { writeOut } from './stdio.js';

/** Engine options from the environment and the common --explain / --dry-run flags. */
export function engineOptions(flags: { explain?: boolean; dryRun?: boolean } = {}): EngineOptions {
  const step = (name: string): number | undefined => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name}=${v} is not a step number`);
    return Number(v);
  };
  const show = flags.explain || flags.dryRun;
  return {
    root: process.env.CTNET_ROOT || DEFAULT_ROOT,
    hostNetns: process.env.CTNET_HOST_NETNS || null,
    explain: show ? (line) => writeOut(`${flags.dryRun ? '' : '+ '}${line}\n`) : undefined,
    dryRun: flags.dryRun === true,
    faultAt: step('CTNET_FAULT_AT'),
    crashAt: step('CTNET_CRASH_AT'),
  };
}
