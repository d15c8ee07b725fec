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

/** One --network value as Docker 25 takes it: a name, or name=NET with alias=, ip=, ip6= and mac-address= fields. */
export interface NetworkFlag {
  network: string;
  ip?: string;
  ip6?: string;
  mac?: string;
  aliases: string[];
}

export function parseNetworkFlag(text: string): NetworkFlag {
  if (!text.includes('=')) return { network: text, aliases: [] };
  const flag: Partial<NetworkFlag> & { aliases: string[] } = { aliases: [] };
  const once = (key: string, value: string, set: (v: string) => void, given: string | undefined): void => {
    if (given !== undefined) throw new InvalidArgumentError(`--network ${text}: ${key} is given twice; give it once`);
    set(value);
  };
  for (const field of text.split(',')) {
    const at = field.indexOf('=');
    const [key, value] = at < 0 ? [field, ''] : [field.slice(0, at).trim(), field.slice(at + 1).trim()];
    if (!value) throw new InvalidArgumentError(`--network ${text}: ${key || 'a field'} has no value; give key=value fields, e.g. --network name=app,ip=172.20.0.5,alias=db`);
    if (key === 'name') once(key, value, (v) => (flag.network = v), flag.network);
    else if (key === 'ip') once(key, value, (v) => (flag.ip = v), flag.ip);
    else if (key === 'ip6') once(key, value, (v) => (flag.ip6 = v), flag.ip6);
    else if (key === 'mac-address') once(key, value, (v) => (flag.mac = v), flag.mac);
    else if (key === 'alias') flag.aliases.push(value);
    else if (['driver-opt', 'link-local-ip', 'gw-priority'].includes(key)) throw new InvalidArgumentError(`--network ${text}: ${key} is not supported (see docs/docker.md); leave it out`);
    else throw new InvalidArgumentError(`--network ${text}: ${key} is not a key of --network; use name, alias, ip, ip6, mac-address`);
  }
  if (flag.network === undefined) throw new InvalidArgumentError(`--network ${text}: name= is missing; give the network, e.g. --network name=app,alias=db`);
  return flag as NetworkFlag;
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
