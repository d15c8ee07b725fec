import { randomBelow, randomHex } from '../crypto.js';
import { HOST_VETH_ID_DIGITS } from '../names.js';

/** Docker-style generated names: adjective_scientist. */
const ADJECTIVES = ['brave', 'calm', 'eager', 'fervent', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nimble', 'quiet', 'sharp', 'steady', 'tender', 'vivid', 'wise', 'zealous'];
const NAMES = ['babbage', 'cerf', 'dijkstra', 'hopper', 'kahn', 'knuth', 'lamport', 'liskov', 'lovelace', 'metcalfe', 'perlman', 'postel', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wirth'];

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const name = `${ADJECTIVES[randomBelow(ADJECTIVES.length)]}_${NAMES[randomBelow(NAMES.length)]}`;
    if (!taken(name)) return name;
  }
  return `ctnet_${randomBelow(1e9)}`;
}

/**
 * A new container's ID (64 hex digits), drawn again while another container's ID starts the same:
 * its host veth is named after the first 8 digits (its namespace after 12), and among 10,000
 * containers two share 8 digits about once in a hundred draws of all of them.
 */
export function newContainerId(prefixTaken: (prefix: string) => boolean, draw: () => string = () => randomHex(32)): string {
  for (;;) {
    const id = draw();
    if (!prefixTaken(id.slice(0, HOST_VETH_ID_DIGITS))) return id;
  }
}
