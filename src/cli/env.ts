import { stepFromEnv, type EngineOptions } from '../engine/context.js';
import { DEFAULT_ROOT } from '../names.js';
import { writeOut } from './stdio.js';

/** Engine options from the environment and the common --explain / --dry-run flags. */
export function engineOptions(flags: { explain?: boolean; dryRun?: boolean } = {}): EngineOptions {
  const show = flags.explain || flags.dryRun;
  return {
    root: process.env.CTNET_ROOT || DEFAULT_ROOT,
    hostNetns: process.env.CTNET_HOST_NETNS || null,
    explain: show ? (line) => writeOut(`${flags.dryRun ? '' : '+ '}${line}\n`) : undefined,
    dryRun: flags.dryRun === true,
    faultAt: stepFromEnv('CTNET_FAULT_AT'),
    crashAt: stepFromEnv('CTNET_CRASH_AT'),
  };
}
