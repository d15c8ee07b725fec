import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';

/**
 * The seed's server: answers every HTTP request on PORT with "NAME from CLIENT-ADDRESS", and every
 * UDP datagram on the same port with the same line, so checks can see who answered and which source
 * address it saw.
 */
const [name = 'server', portText = '8080'] = process.argv.slice(2);
const port = Number(portText);

// One dual-stack socket each (IPv4 clients show as ::ffff:a.b.c.d, printed without the prefix).
const plain = (address: string | undefined): string => (address ?? '').replace(/^::ffff:/, '');

createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`${name} from ${plain(req.socket.remoteAddress)}\n`);
}).listen(port, '::');

const udp = createSocket({ type: 'udp6', ipv6Only: false });
udp.on('message', (_msg, from) => udp.send(`${name} from ${plain(from.address)}\n`, from.port, from.address));
udp.bind(port, '::');
