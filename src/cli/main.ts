import { Command, CommanderError } from 'commander';
import { CtnetError, oneLine } from '../errors.js';
import { CONTAINER_COMMANDS } from './container-commands.js';
import { NETWORK_COMMANDS } from './network-commands.js';
import { registerDemoCommand } from './demo-command.js';
import { registerStatsCommand } from './stats-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerCniCommand } from './cni-command.js';
import { registerCniDaemonCommand } from './cni-daemon-command.js';
import { registerClusterCommands } from './cluster-commands.js';
import { flushStreams, writeErr, writeOut } from './stdio.js';

/** Exit code for usage errors reported by the parser itself (unknown command or option, missing argument). */
const USAGE_EXIT = 2;

/** Every top-level command by name, in the order `ctnet --help` lists them. */
const COMMANDS: Record<string, (program: Command) => void> = {
  ...NETWORK_COMMANDS,
  ...CONTAINER_COMMANDS,
  stats: registerStatsCommand,
  serve: registerServeCommand,
  cni: registerCniCommand,
  'cni-daemon': registerCniDaemonCommand,
  cluster: registerClusterCommands,
  demo: registerDemoCommand,
};

/**
 * The CLI's commands; with `command` (what the command line starts with) only that one, when it is
 * one: building all ~40 commands and their options cost ~3-5 ms of every command's start. Help, a
 * version or an unknown command get them all.
 */
export function buildProgram(command?: string): Command {
  const program = new Command('ctnet')
    .description('Container networking without a container daemon: namespaces, veth pairs, a bridge, IPAM, NAT and published ports.')
    .version('0.1.0')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Environment:
  CTNET_ROOT        state directory (default /var/lib/ctnet)
  CTNET_HOST_NETNS  name of the network namespace that plays the host (default: the one ctnet runs in)
  CTNET_SEGMENT_PORTS  containers on each bridge of a network before it adds a segment (default:
                    900 on its own, 128 on each segment; a small number shows segments at work)

Exit codes: 0 ok, 1 some of several names failed (rm, stop, inspect, network rm/inspect: each
failure has its line, the others were done), 2 invalid input, 3 not found, 4 conflict, 5 not root, 6 missing dependency,
7 kernel error; run passes the container's exit code through (125: the container could not be set
up; 126/127: the command cannot be started).`,
    );
  program.exitOverride();
  program.configureOutput({ writeOut, writeErr, outputError: (str, write) => write(`ctnet: ${str.replace(/^error: /, 'error: ')}`) });
  const only = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  for (const register of only ? [only] : Object.values(COMMANDS)) register(program);
  return program;
}

export function reportError(err: unknown): number {
  if (err instanceof CtnetError) {
    writeErr(`ctnet: error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return USAGE_EXIT;
  }
  const e = err as Error;
  writeErr(`ctnet: internal error: ${oneLine(e?.message ?? String(err))}${process.env.CTNET_DEBUG ? `\n${e?.stack}` : ' (set CTNET_DEBUG=1 for details)'}\n`);
  return 1;
}

async function main(argv: string[]): Promise<void> {
  let code = 0;
  try {
    await buildProgram(argv[2]).parseAsync(argv);
    code = process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    code = reportError(err);
  }
  // The CLI's own output is written by then (stdio.ts); what went through Node's streams reaches its reader too.
  await flushStreams();
  process.exit(code);
}

void main(process.argv);
