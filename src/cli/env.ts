import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine/context.js';
import { DEFAULT_ROOT } from '../names.js';

/** Engine options from the environment and the common --explain / --dry-run flags. */
export function engineOptions(flags: { explain?: boolean; dryRun?: boolean } = {}): EngineOptions {
  const fault = process.env.CTNET_FAULT_AT;
  if (fault !== undefined && !/^\d+$/.test(fault)) throw new InvalidArgumentError(`CTNET_FAULT_AT=${fault} is not a step number`);
  const show = flags.explain || flags.dryRun;
  return {
    root: process.env.CTNET_ROOT || DEFAULT_ROOT,
    hostNetns: process.env.CTNET_HOST_NETNS || null,
    explain: show ? (line) => process.stdout.write(`${flags.dryRun ? '' : '+ '}${line}\n`) : undefined,
    dryRun: flags.dryRun === true,
    faultAt: fault === undefined ? undefined : Number(fault),
  };
}
