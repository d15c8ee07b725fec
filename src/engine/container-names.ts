import { randomBelow } from '../crypto.js';

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
