import { createRequire } from 'node:module';

type ChildProcessModule = typeof import('node:child_process');
let loaded: ChildProcessModule | undefined;

/**
 * node:child_process, loaded at first use: it loads node:net, dgram and the stream modules with it
 * (~7 ms of every command's start), and ps, rm, inspect, network ls and most others start nothing.
 */
export const childProcess = (): ChildProcessModule => (loaded ??= createRequire(import.meta.url)('node:child_process') as ChildProcessModule);
