import { ConflictError, InvalidArgumentError } from '../errors.js';
import { DEFAULT_NETWORK } from '../names.js';
import type { PortRequest } from '../ipam/ports.js';
import type { ContainerRecord, NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { findContainer, liveState } from './lookup.js';

/** What `run --network` names: a ctnet network (bridge), or one of Docker's modes. */
export type NetworkChoice =
  | { mode: 'bridge'; network: string }
  | { mode: 'none' }
  | { mode: 'host' }
  | { mode: 'container'; container: string };

/** Where the container's process goes, once the choice is resolved under the host lock. */
export type Placement =
  | { mode: 'bridge'; net: NetworkRecord }
  | { mode: 'none' }
  | { mode: 'host' }
  | { mode: 'container'; donor: ContainerRecord };

/** Names `--network` gives a meaning of its own: no network may take them (as in Docker). */
export const RESERVED_NETWORK_NAMES: readonly string[] = ['none', 'host'];

export function networkChoiceOf(text: string | undefined): NetworkChoice {
  if (text === undefined) return { mode: 'bridge', network: DEFAULT_NETWORK.name };
  if (text === 'none' || text === 'host') return { mode: text };
  if (text.startsWith('container:')) {
    const container = text.slice('container:'.length);
    if (!container) throw new InvalidArgumentError('--network container: needs a container name or ID, e.g. --network container:web');
    return { mode: 'container', container };
  }
  return { mode: 'bridge', network: text };
}

/** The request as Docker reads it for a mode: what conflicts is refused, published ports of none and host are dropped. */
export function checkModeRequest(
  ctx: EngineContext,
  choice: NetworkChoice,
  req: { ip?: string; ip6?: string; mac?: string; aliases?: string[]; hostname?: string },
  ports: PortRequest[],
): PortRequest[] {
  if (choice.mode === 'bridge') return ports;
  const named = choice.mode === 'container' ? `container:${choice.container}` : choice.mode;
  for (const [flag, given] of [['--ip', req.ip], ['--ip6', req.ip6], ['--mac-address', req.mac]] as const) {
    if (given !== undefined) throw new InvalidArgumentError(`${flag} needs a network of ctnet's: with --network ${named} the container has no interface of its own there; drop ${flag}`);
  }
  if (req.aliases?.length) throw new InvalidArgumentError(`--network-alias needs a network with embedded DNS, and --network ${named} has none; drop --network-alias`);
  if (choice.mode === 'container') {
    if (ports.length) throw new InvalidArgumentError(`conflicting options: -p and --network ${named}: the container shares ${choice.container}'s network; publish the ports on ${choice.container}`);
    if (req.hostname !== undefined) throw new InvalidArgumentError(`conflicting options: --hostname and --network ${named}: the container takes ${choice.container}'s hostname; drop --hostname`);
    return ports;
  }
  if (ports.length) ctx.notice(`published ports are discarded with --network ${named}${choice.mode === 'host' ? ': the container listens on the host\'s ports itself' : ''}`);
  return [];
}

/** The mode's placement, under the host lock: a container to join must be running, in a namespace of its own or a runtime's. */
export function placementOf(ctx: EngineContext, choice: Exclude<NetworkChoice, { mode: 'bridge' }>): Placement {
  if (choice.mode !== 'container') return choice;
  const donor = findContainer(ctx, choice.container);
  if (liveState(donor) !== 'running' || donor.netns === null && donor.networkMode !== 'host') {
    throw new ConflictError(`cannot join the network of container ${donor.name}: it is not running; start it first, or pick a running container`);
  }
  if (donor.networkMode === 'host') throw new InvalidArgumentError(`container ${donor.name} uses the host's network; use --network host instead of --network container:${donor.name}`);
  return { mode: 'container', donor };
}
