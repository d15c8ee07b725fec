import { request } from 'node:http';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { isIPv6 } from '../addr/family.js';

/**
 * probe tcp|udp HOST PORT TIMEOUT_MS: prints the echo server's answer and exits 0, or the error and
 * exits 1. With PROBE_DNS=IP the name is looked up at that server (a container's embedded DNS, asked
 * from inside the container's namespace) instead of the system's resolver.
 */
const [protocol, name, portText, timeoutText = '2000'] = process.argv.slice(2);
const port = Number(portText);
const timeout = Number(timeoutText);

function fail(message: string): never {
  process.stdout.write(`${message}\n`);
  process.exit(1);
}

async function lookUp(server: string): Promise<string> {
  const resolver = new Resolver({ timeout: timeout, tries: 1 });
  resolver.setServers([server]);
  try {
    return (await resolver.resolve4(name))[0];
  } catch (err) {
    return fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

const host = process.env.PROBE_DNS && !/^[\d.]+$/.test(name) ? await lookUp(process.env.PROBE_DNS) : name;

if (protocol === 'udp') {
  const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const timer = setTimeout(() => fail('no UDP answer'), timeout);
  sock.on('message', (msg) => {
    clearTimeout(timer);
    process.stdout.write(msg.toString());
    process.exit(0);
  });
  sock.on('error', (err) => fail(err.message));
  sock.send('probe', port, host);
} else {
  const req = request({ host, port, path: '/', timeout, agent: false }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      process.stdout.write(body);
      process.exit(0);
    });
  });
  req.on('timeout', () => {
    req.destroy();
    fail(`no answer within ${timeout} ms`);
  });
  req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  req.end();
}
