import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';

/**
 * The seed's server: answers every HTTP request on PORT with "NAME from CLIENT-ADDRESS", and every
 * UDP datagram on the same port with the same line, so checks can see who answered and which source
 * address it saw.
 */
const [name = 'server', portText = '8080'] = process.argv.slice(2);
const port = Number(portText);

createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`${name} from ${req.socket.remoteAddress?.replace(/^::ffff:/, '')}\n`);
}).listen(port, '0.0.0.0');

const udp = createSocket('udp4');
udp.on('message', (_msg, from) => udp.send(`${name} from ${from.address}\n`, from.port, from.address));
udp.bind(port, '0.0.0.0');
