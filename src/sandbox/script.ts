import { fileURLToPath } from 'node:url';
import { DependencyMissingError } from '../errors.js';
import { DEFAULT_PATH, resolveCommand } from '../kernel/spawn.js';

/**
 * The container side of ctnet: one Perl program (ctnet-init starts a container, ctnet-enter is
 * `exec`), copied beside the CLI's bundle by the build. A container's start is so one Perl start
 * (a few ms), not a second Node start (~100 ms), and Perl is single-threaded, so it may enter a
 * mount namespace, which Node cannot.
 */
const SCRIPT = fileURLToPath(new URL('../cli/ctnet-sandbox.pl', import.meta.url));

/** The architectures whose syscall numbers the program knows. */
const ARCHES = new Set(['x64', 'arm64']);

let perl: string | undefined;

/** Perl from ctnet's own PATH: the command runs with the container's environment, whose PATH the user may set. */
function perlPath(): string {
  try {
    return (perl ??= resolveCommand('perl', process.env.PATH || DEFAULT_PATH));
  } catch {
    throw new DependencyMissingError('perl was not found in PATH; ctnet starts containers with it: install perl-base');
  }
}

export function sandboxCommand(mode: 'init' | 'standby' | 'enter', args: readonly string[]): string[] {
  if (!ARCHES.has(process.arch)) throw new DependencyMissingError(`ctnet does not know the syscall numbers of ${process.arch}`);
  return [perlPath(), SCRIPT, mode, process.arch, ...args];
}
