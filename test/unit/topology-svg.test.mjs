import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CONTAINER_BOXES, drawnContainers, topologySvg } from '../../dist/topology/svg.js';

/** A synthetic topology: the seed's lab, or one network with many containers each publishing a port. */
function topology(containers) {
  return {
    host: { netns: null, interfaces: [{ name: 'eth0', up: true, addresses: ['10.0.12.15/22'] }], ipForward: '1' },
    networks: [{
      name: 'seed', bridge: 'br0', bridgePresent: true, gateway: '172.17.0.1', subnet: '172.17.0.0/16', internal: false, ipMasq: true,
      containers: Array.from({ length: containers }, (_, i) => ({
        name: `container${i + 1}`, id: `${i}`.padStart(64, 'a'), hostname: `c${i}`, state: 'running', ip: `172.17.${i >> 8}.${(i & 255) + 2}`, prefix: 16,
        ifname: 'eth0', hostVeth: `veth${String(i).padStart(8, '0')}`, vethPresent: true, netns: `ctnet-${i}`,
        ports: i === 0 ? [{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8000, containerPort: 8080 }] : [],
      })),
    }],
    rules: ['seed: masquerade 172.17.0.0/16 leaving through any interface but a ctnet bridge'],
  };
}

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

for (const n of [3, 100]) {
  test(`svg at ${n} containers: every node drawn, no two nodes overlap, ports as labelled arrows`, async () => {
    const { svg, boxes } = await topologySvg(topology(n));
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(boxes.length, n + 2);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlap(boxes[i], boxes[j]), `${boxes[i].id} overlaps ${boxes[j].id}`);
    for (let i = 1; i <= n; i++) assert.ok(svg.includes(`>container${i}<`));
    assert.match(svg, /0\.0\.0\.0:8000\/tcp → 172\.17\.0\.2:8080/);
    assert.match(svg, /marker-end="url\(#arrow\)"/);
  });
}

test('svg at 1,000 containers: 100 boxes, the rest of the network counted in one, publishers drawn first', async () => {
  const t = topology(1000);
  t.networks[0].containers[700].ports = [{ protocol: 'udp', hostIp: '0.0.0.0', hostPort: 5353, containerPort: 53 }];
  t.networks[0].containers[998].ports = [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 9000, containerPort: 80 }];
  const { svg, boxes } = await topologySvg(t);
  assert.equal(boxes.filter((b) => b.id.startsWith('ct:')).length, MAX_CONTAINER_BOXES);
  assert.deepEqual(boxes.filter((b) => !b.id.startsWith('ct:')).map((b) => b.id).sort(), ['bridge:br0', 'host', 'more:seed']);
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlap(boxes[i], boxes[j]), `${boxes[i].id} overlaps ${boxes[j].id}`);
  assert.match(svg, />900 more containers</);
  assert.match(svg, />ctnet ps --filter network=seed</);
  assert.doesNotMatch(svg, /publishing/, 'every publisher has a box of its own');
  for (const name of ['container1', 'container701', 'container999', 'container98']) assert.ok(svg.includes(`>${name}<`), name);
  assert.ok(!svg.includes('>container99<'), 'the 3 publishers (container1, 701 and 999) and the first 97 others (up to container98) fill the drawing');
  assert.match(svg, /0\.0\.0\.0:5353\/udp → 172\.17\.2\.190:53/);
});

test('the boxes are shared out over the networks in turn; a container on two networks is one box', () => {
  const net = (name, n) => ({
    name, containers: Array.from({ length: n }, (_, i) => ({ id: `${name}${i}`, state: 'running', ports: [] })),
  });
  const a = net('a', 10);
  const b = net('b', 200);
  const c = net('c', 200);
  c.containers[0] = b.containers[0]; // on b and c
  c.containers[150].ports = [{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 80, containerPort: 80 }];
  const stopped = { id: 'stopped', state: 'exited', ports: [] };
  a.containers.push(stopped);
  const drawn = drawnContainers([a, b, c], 50);
  assert.equal(drawn.size, 50);
  assert.ok(!drawn.has('stopped'));
  assert.ok(drawn.has('c150'), 'a publisher goes first');
  assert.equal(a.containers.filter((x) => drawn.has(x.id)).length, 10, 'a small network is drawn whole');
  // b's turns: b0, b1, ...; c's: its publisher, then b0 (drawn through b already: the turn adds
  // nothing), then c1, ...: after a's ten, b and c take one each a turn until the 50th.
  assert.equal(b.containers.filter((x) => drawn.has(x.id)).length, 21);
  assert.deepEqual(c.containers.filter((x) => drawn.has(x.id)).map((x) => x.id), ['b0', ...Array.from({ length: 18 }, (_, i) => `c${i + 1}`), 'c150']);
  assert.equal(drawnContainers([a, b, c], 1000).size, 409);
});

test('svg: a network past the drawing\'s boxes says how many ports its hidden containers publish', async () => {
  const t = topology(150);
  t.networks[0].containers.forEach((c, i) => { c.ports = [{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8000 + i, containerPort: 80 }]; });
  const { svg } = await topologySvg(t);
  assert.match(svg, />50 more containers</);
  assert.match(svg, />publishing 50 ports \(rules below\)</);
});

/** The longest the event loop went without a tick while `work` ran. */
async function longestStall(work) {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    const t0 = performance.now();
    const result = await work();
    const end = performance.now();
    return { result, longest: Math.max(longest, end - last), took: end - t0 };
  } finally {
    clearInterval(tick);
  }
}

test("ctnet serve's layouts run on a thread of their own: the same drawing, and the server's thread keeps ticking; the control, laid out in-thread, stalls it", async () => {
  const { LayoutWorker } = await import('../../dist/serve/layout-worker.js');
  const worker = new LayoutWorker();
  try {
    // The most boxes, each container publishing: the heaviest drawing serve makes (~1 s).
    const t = topology(MAX_CONTAINER_BOXES);
    t.networks[0].containers.forEach((c, i) => (c.ports = [{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 20000 + i, containerPort: 80 }]));
    const here = await longestStall(() => topologySvg(t));
    const away = await longestStall(() => topologySvg(t, worker.layout));
    assert.equal(away.result.svg, here.result.svg, "the same drawing");
    console.log(`# in-thread: stalled ${here.longest.toFixed(0)} of ${here.took.toFixed(0)} ms; on the worker: ${away.longest.toFixed(0)} of ${away.took.toFixed(0)} ms`);
    assert.ok(here.longest > here.took * 0.5, `control: in-thread, the loop stalled ${here.longest.toFixed(0)} of ${here.took.toFixed(0)} ms`);
    assert.ok(away.longest < away.took * 0.5, `on the worker, the loop stalled ${away.longest.toFixed(0)} of ${away.took.toFixed(0)} ms`);
    // A second drawing reuses the thread (ELK loaded once); a layout ELK refuses is an error, not a hang.
    assert.equal((await topologySvg(t, worker.layout)).svg, here.result.svg);
    await assert.rejects(worker.layout({ id: 'root', layoutOptions: {}, children: [{ id: 'a', width: 1, height: 1 }], edges: [{ id: 'e', sources: ['a'], targets: ['nope'] }] }), /laying out the topology/);
  } finally {
    await worker.close();
  }
});
