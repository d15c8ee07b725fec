// Docker's habits with names and lists: several names act on those that exist (one error line per
// other, exit 1), ps and network ls take -q, --filter and --format, network prune removes unused networks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CTNET, createLab } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'front', '--subnet', '172.30.0.0/24']);
  lab.ok(['network', 'create', 'back', '--subnet', '172.30.1.0/24']);
});
after(() => lab?.close());

const names = (list) => list.map((c) => c.Name).sort();

test('rm -f with a missing name removes the others, says which one is missing, and exits 1', () => {
  lab.ok(['run', '-d', '--name', 'a', '--network', 'front', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'b', '--network', 'front', '--', 'sleep', '600']);
  const r = lab.ctnet(['rm', '-f', 'a', 'nosuch', 'b']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, 'a\nb\n');
  assert.deepEqual(r.stderr.trimEnd().split('\n'), ['ctnet: error: container nosuch does not exist; list containers with ctnet ps -a']);
  assert.deepEqual(names(lab.json(['ps', '-a'])), []);
  // One name keeps its own exit code (3: not found).
  assert.equal(lab.ctnet(['rm', 'nosuch']).code, 3);
});

test('rm without -f: a running container is refused by itself, an exited one beside it goes', () => {
  lab.ok(['run', '-d', '--name', 'up', '--network', 'front', '--', 'sleep', '600']);
  lab.ok(['run', '--name', 'done', '--network', 'front', '--', 'true']);
  const r = lab.ctnet(['rm', 'up', 'done']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'done\n');
  assert.match(r.stderr, /^ctnet: error: container up is running; stop it first/);
  assert.deepEqual(names(lab.json(['ps', '-a'])), ['up']);
  lab.ok(['rm', '-f', 'up']);
});

test('stop and inspect with several names; inspect prints an array of those found', () => {
  lab.ok(['run', '-d', '--name', 's1', '--network', 'front', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 's2', '--network', 'back', '--', 'sleep', '600']);
  const i = lab.ctnet(['inspect', 's1', 'ghost', 's2']);
  assert.equal(i.code, 1);
  assert.deepEqual(JSON.parse(i.stdout).map((c) => c.Name), ['s1', 's2']);
  assert.equal(i.stderr.trimEnd().split('\n').length, 1);
  assert.equal(JSON.parse(lab.ok(['inspect', 's1'])).Name, 's1', 'one name: one object, as before');
  const s = lab.ctnet(['stop', '-t', '1', 's1', 'ghost', 's2']);
  assert.equal(s.code, 1);
  assert.equal(s.stdout, 's1\ns2\n');
  assert.deepEqual(lab.json(['ps']), []);
  lab.ok(['rm', 's1', 's2']);
});

test('--cidfile: the ID written where scripts read it, detached or not; an existing file is refused before anything starts', () => {
  const detached = join(lab.root, 'detached.cid');
  const id = lab.ok(['run', '-d', '--name', 'cid-d', '--network', 'back', '--cidfile', detached, '--', 'sleep', '600']).trim();
  assert.equal(readFileSync(detached, 'utf8'), id);
  const before = lab.json(['ps', '-a']).length;
  const again = lab.ctnet(['run', '-d', '--name', 'cid-again', '--network', 'back', '--cidfile', detached, '--', 'sleep', '600']);
  assert.equal(again.code, 4);
  assert.equal(again.stderr, `ctnet: error: --cidfile ${detached} exists: the container written there may still run; remove the file first\n`);
  assert.equal(lab.json(['ps', '-a']).length, before, 'nothing started');
  const foreground = join(lab.root, 'foreground.cid');
  lab.ok(['run', '--name', 'cid-f', '--network', 'back', '--cidfile', foreground, '--', 'true']);
  assert.equal(readFileSync(foreground, 'utf8'), lab.json(['inspect', 'cid-f']).Id);
  const nowhere = lab.ctnet(['run', '--network', 'back', '--cidfile', join(lab.root, 'no', 'dir', 'x.cid'), '--', 'true']);
  assert.equal(nowhere.code, 3);
  assert.match(nowhere.stderr, /^ctnet: error: --cidfile .*x\.cid: .*\/no\/dir is not a directory; create it first\n$/);
  assert.equal(existsSync(join(lab.root, 'no')), false);
  lab.ok(['rm', '-f', 'cid-d', 'cid-f']);
});

test('ps: -q, --filter by name, network and status (status looks at exited ones without -a), --format', () => {
  const idA = lab.ok(['run', '-d', '--name', 'web-1', '--network', 'front', '-p', '8080:80', '--', 'sleep', '600']).trim();
  lab.ok(['run', '-d', '--name', 'db-1', '--network', 'back', '--', 'sleep', '600']);
  lab.ok(['run', '--name', 'job-1', '--network', 'back', '--', 'true']);
  assert.deepEqual(lab.ok(['ps', '-q', '--filter', 'name=web']).split('\n').filter(Boolean), [idA.slice(0, 12)]);
  assert.deepEqual(lab.ok(['ps', '-q', '--no-trunc', '--filter', 'name=web']).trim(), idA);
  assert.equal(lab.ok(['ps', '--filter', 'network=back', '--format', '{{.Names}}']), 'db-1\n');
  assert.equal(lab.ok(['ps', '--filter', 'status=exited', '--format', '{{.Names}} {{.State}}']), 'job-1 exited\n');
  assert.equal(lab.ok(['ps', '-a', '--filter', 'network=back', '--filter', 'status=running', '--format', '{{.Names}}']), 'db-1\n');
  // Alternatives of one key: any may match.
  assert.deepEqual(lab.ok(['ps', '--filter', 'name=web', '--filter', 'name=db', '--format', '{{.Names}}']).split('\n').filter(Boolean).sort(), ['db-1', 'web-1']);
  const table = lab.ok(['ps', '--filter', 'name=web', '--format', 'table {{.ID}}\\t{{.Names}}\\t{{.Networks}}\\t{{.Ports}}']).split('\n');
  assert.deepEqual(table[0].split('\t'), ['CONTAINER ID', 'NAMES', 'NETWORKS', 'PORTS']);
  assert.deepEqual(table[1].split('\t'), [idA.slice(0, 12), 'web-1', 'front', '0.0.0.0:8080->80/tcp']);
  const lines = lab.ok(['ps', '-a', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.Names).sort(), ['db-1', 'job-1', 'web-1']);
  assert.equal(lines.find((l) => l.Names === 'web-1').Networks, 'front');
  // Labels, Docker's: -l KEY=VALUE or a bare KEY, found by KEY or KEY=VALUE, shown by inspect and {{.Labels}}.
  lab.ok(['run', '-d', '--name', 'labelled', '--network', 'back', '-l', 'tier=cache', '--label', 'canary', '--', 'sleep', '600']);
  assert.equal(lab.ok(['ps', '--filter', 'label=tier=cache', '--format', '{{.Names}} {{.Labels}}']), 'labelled tier=cache,canary=\n');
  assert.equal(lab.ok(['ps', '--filter', 'label=canary', '--format', '{{.Names}}']), 'labelled\n');
  assert.equal(lab.ok(['ps', '--filter', 'label=tier=web', '--format', '{{.Names}}']), '', 'the control: another value matches nothing');
  assert.deepEqual(lab.json(['inspect', 'labelled']).Config.Labels, { tier: 'cache', canary: '' });
  assert.match(lab.ctnet(['run', '-d', '--network', 'back', '-l', '=x', '--', 'true']).stderr, /^ctnet: error: invalid --label "=x": expected KEY=VALUE\n$/);
  lab.ok(['rm', '-f', 'labelled']);
  // Bad filters and templates: one line naming what is understood, exit 2.
  for (const args of [['--filter', 'colour=red'], ['--filter', 'status=sleeping'], ['--format', '{{.Nope}}'], ['--format', '{{range .Names}}x{{end}}']]) {
    const r = lab.ctnet(['ps', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  }
  lab.ok(['rm', '-f', 'web-1', 'db-1', 'job-1']);
});

test('network ls -q, --filter, --format; network rm and inspect with several names', () => {
  lab.ok(['network', 'create', 'spare-1', '--subnet', '172.30.5.0/24']);
  lab.ok(['network', 'create', 'spare-2', '--subnet', '172.30.6.0/24']);
  lab.ok(['run', '-d', '--name', 'keeper', '--network', 'front', '--', 'sleep', '600']);
  assert.equal(lab.ok(['network', 'ls', '--filter', 'name=spare', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), 'spare-1 bridge local\nspare-2 bridge local\n');
  const dangling = lab.ok(['network', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}']).trim().split('\n');
  assert.ok(dangling.includes('spare-1') && dangling.includes('back') && !dangling.includes('front'), dangling.join(' '));
  assert.equal(lab.ok(['network', 'ls', '-q', '--filter', 'name=spare-1']).trim(), lab.json(['network', 'inspect', 'spare-1']).Id.slice(0, 12));
  const i = lab.ctnet(['network', 'inspect', 'spare-1', 'nonet', 'spare-2']);
  assert.equal(i.code, 1);
  assert.deepEqual(JSON.parse(i.stdout).map((n) => n.Name), ['spare-1', 'spare-2']);
  const r = lab.ctnet(['network', 'rm', 'spare-1', 'nonet', 'front', 'spare-2']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'spare-1\nspare-2\n');
  assert.deepEqual(r.stderr.trimEnd().split('\n').map((l) => l.replace(/;.*/, '')), ['ctnet: error: network nonet does not exist', 'ctnet: error: network front still has containers attached (keeper)']);
  lab.ok(['rm', '-f', 'keeper']);
});

test('network prune removes networks no container uses (--filter until=, label=, label!= choose among them), keeps used ones and the default one; asks first without -f', () => {
  lab.ok(['network', 'create', 'unused', '--subnet', '172.30.7.0/24']);
  lab.ok(['run', '-d', '--name', 'user', '--network', 'front', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'on-default', '--', 'sleep', '600']);
  lab.ok(['rm', '-f', 'on-default']);
  const refused = lab.ctnet(['network', 'prune']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /add -f/);
  assert.ok(lab.json(['network', 'ls']).some((n) => n.Name === 'unused'), 'refused prune removed nothing');
  // On a terminal it asks, as Docker does: no keeps every network.
  const asked = spawnSync('script', ['-qec', `${process.execPath} ${CTNET} network prune`, '/dev/null'], { input: 'n\n', env: lab.env, encoding: 'utf8', timeout: 30000 });
  assert.equal(asked.status, 0, asked.stdout);
  assert.match(asked.stdout, /Are you sure you want to continue\? \[y\/N\]/);
  assert.ok(lab.json(['network', 'ls']).some((n) => n.Name === 'unused'), 'answered no, removed nothing');
  // --filter: only networks that match go (label=, label!=, until=).
  lab.ok(['network', 'create', 'tagged', '--subnet', '172.30.17.0/24', '--label', 'env=test']);
  assert.equal(lab.ok(['network', 'prune', '-f', '--filter', 'until=1h']), '', 'every network is younger than an hour');
  assert.equal(lab.ok(['network', 'prune', '-f', '--filter', 'label=env=prod']), '');
  assert.equal(lab.ok(['network', 'prune', '-f', '--filter', 'label=env=test', '--filter', 'until=0s']), 'Deleted Networks:\ntagged\n');
  for (const [filter, message] of [['until=soon', /--filter until=soon is not a time/], ['colour=red', /network prune can filter on until=VALUE, label=VALUE, label!=VALUE/]]) {
    const r = lab.ctnet(['network', 'prune', '-f', '--filter', filter]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  assert.equal(lab.ok(['network', 'prune', '-f', '--filter', 'label!=env']), 'Deleted Networks:\nback\nunused\n');
  const out = lab.ok(['network', 'prune', '-f']);
  assert.equal(out, '');
  assert.deepEqual(lab.json(['network', 'ls']).map((n) => n.Name).sort(), ['bridge', 'front']);
  lab.ok(['rm', '-f', 'user']);
});

test('inspect --format as Docker scripts use it: a field, json, range over networks; network inspect --format; a missing field is refused', () => {
  lab.ok(['network', 'create', 'dual', '--subnet', '172.30.9.0/24', '--ipv6', '--subnet', 'fd00:30:9::/64']);
  lab.ok(['run', '-d', '--name', 'fmt', '--network', 'front', '--label', 'com.example.app=shop', '--', 'sleep', '600']);
  lab.ok(['network', 'connect', 'dual', 'fmt', '--ip6', 'fd00:30:9::77']);
  const c = lab.json(['inspect', 'fmt']);
  assert.equal(lab.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'fmt']), `${c.NetworkSettings.IPAddress}\n`);
  assert.equal(lab.ok(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.Network}}={{.IPAddress}} {{end}}', 'fmt']), `front=${c.NetworkSettings.IPAddress} dual=${c.NetworkSettings.Networks[1].IPAddress} \n`);
  assert.equal(c.NetworkSettings.Networks[1].GlobalIPv6Address, 'fd00:30:9::77', 'connect --ip6');
  assert.deepEqual(JSON.parse(lab.ok(['inspect', '-f', '{{json .State.Running}}', 'fmt'])), true);
  assert.equal(lab.ok(['inspect', '-f', '{{index .Config.Labels "com.example.app"}} {{if .State.Running}}up{{else}}down{{end}} {{len .NetworkSettings.Networks}}', 'fmt']), 'shop up 2\n');
  assert.equal(lab.ok(['network', 'inspect', '-f', '{{.Subnet}} {{range .Containers}}{{.Name}}{{end}}', 'front']), '172.30.0.0/24 fmt\n');
  const bad = lab.ctnet(['inspect', '-f', '{{.Nope.Deeper}}', 'fmt']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no field \.Nope\.Deeper/);
  lab.ok(['rm', '-f', 'fmt']);
  lab.ok(['network', 'rm', 'dual']);
});

test('--expose with -P publishes on free host ports; network rm -f ignores a missing network', async () => {
  lab.ok(['run', '-d', '--name', 'exposed', '--network', 'front', '--expose', '8080', '--expose', '9000/udp', '-P', '--', 'sleep', '600']);
  const ports = lab.json(['inspect', 'exposed']).NetworkSettings.Ports;
  assert.deepEqual(ports.map((p) => `${p.ContainerPort}/${p.Protocol}`).sort(), ['8080/tcp', '9000/udp']);
  for (const p of ports) assert.ok(p.HostPort > 0, JSON.stringify(p));
  const noP = lab.ok(['run', '-d', '--name', 'unpublished', '--network', 'front', '--expose', '8080', '--', 'sleep', '600']);
  assert.ok(noP);
  assert.deepEqual(lab.json(['inspect', 'unpublished']).NetworkSettings.Ports, [], '--expose alone publishes nothing, as Docker');
  assert.equal(lab.ctnet(['run', '--expose', '1:2', '--', 'true']).code, 2);
  lab.ok(['rm', '-f', 'exposed', 'unpublished']);
  assert.equal(lab.ok(['network', 'rm', '-f', 'never-made']), '');
  assert.equal(lab.ctnet(['network', 'rm', 'never-made']).code, 3);
});
