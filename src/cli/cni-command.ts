import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { writeOut } from './stdio.js';

/**
 * `ctnet cni`: one CNI invocation in this process, what bin/cni/ctnet runs when no cni-daemon
 * answers. Through the CLI's bundle it starts from V8's code cache: the plugin's own bundle was
 * compiled from source at every call (an ADD with no daemon 311 -> 249 ms, with libnftables no
 * longer loaded).
 */
export function registerCniCommand(program: Command): void {
  program
    .command('cni')
    .description('Run the CNI plugin once: the CNI_* variables and the network configuration on stdin, the result or the error on stdout (bin/cni/ctnet runs this when no cni-daemon answers)')
    .action(async () => {
      let stdin = '';
      try {
        stdin = readFileSync(0, 'utf8');
      } catch {
        // no stdin: the handler reports the missing configuration
      }
      const { handleCni } = await import('../cni/handler.js');
      const { stdout, exitCode } = await handleCni(process.env, stdin);
      writeOut(stdout);
      process.exitCode = exitCode;
    });
}
