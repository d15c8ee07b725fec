#!/usr/bin/env node
// Refreshes the `--help` block of every page in docs/commands from the CLI itself, so the pages
// never drift from the options. `--check` changes nothing and exits 1 when a page is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'docs', 'commands');
const BLOCK = /<!-- help: ([\w -]+) -->\n```text\n[\s\S]*?```\n<!-- end help -->/g;
const check = process.argv.includes('--check');

const help = (command) =>
  execFileSync(process.execPath, [join(root, 'bin', 'ctnet'), ...command.split(' '), '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } }).trimEnd();

let stale = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const fresh = text.replace(BLOCK, (_all, command) => `<!-- help: ${command} -->\n\`\`\`text\n$ ctnet ${command} --help\n${help(command)}\n\`\`\`\n<!-- end help -->`);
  if (fresh === text) continue;
  stale.push(file);
  if (!check) writeFileSync(path, fresh);
}
if (check && stale.length) {
  process.stderr.write(`docs/commands out of date: ${stale.join(', ')}; run node scripts/command-docs.mjs\n`);
  process.exit(1);
}
process.stdout.write(stale.length ? `${check ? 'stale' : 'updated'}: ${stale.join(', ')}\n` : 'docs/commands are up to date\n');
