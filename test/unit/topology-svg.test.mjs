import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topologySvg } from '../../dist/topology/svg.js';

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
